"""Build modules without initialising their weights, for a model whose weights are read next.

`nn.Module` constructors draw random initial weights (`nn.init.normal_`, `kaiming_uniform_`, ...).
Loading a saved model overwrites every one of them, so drawing them is wasted work; on the meta
device it is worse: `normal_` there runs a Python decomposition that imports torch's compiler stack
(dynamo, sympy: about 2 s of a cold start, measured). Inside `uninitialised()` those calls leave
the tensor as it is (uninitialised memory, or nothing on the meta device); everything else a
constructor computes (the CRF's constraint masks, padding rows' shapes) happens as usual.

The mode is scoped to the `with` block and to the calling thread (a torch function mode), never
global.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

# what module constructors call to draw initial weights: every in-place function of nn.init and
# the tensor methods those call
_INITIALISERS: frozenset[Callable[..., Any]] = frozenset(
    {getattr(nn.init, name) for name in dir(nn.init) if name.endswith("_") and not name.startswith("_")}
    | {torch.Tensor.normal_, torch.Tensor.uniform_}
)


class uninitialised(TorchFunctionMode):  # noqa: N801 (used as a context manager: `with uninitialised():`)
    """Within the block, weight initialisers return their tensor untouched."""

    def __torch_function__(
        self, func: Callable[..., Any], types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        if func in _INITIALISERS:
            return args[0] if args else (kwargs or {})["tensor"]
        return func(*args, **(kwargs or {}))
