"""Building a model whose weights are read next draws no initial weights, and loading one never
imports torch's compiler stack (the meta-device `normal_` did: 2 s of every cold start)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

from slotfill.nn.uninitialised import uninitialised

MODEL = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "model_v2"


def test_initialisers_leave_the_tensor_as_it_is_inside_the_block_only() -> None:
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    with uninitialised():
        layer = nn.Linear(3, 2)
        embedding = nn.Embedding(5, 4)
        nn.init.constant_(layer.bias, 7.0)
    assert torch.equal(torch.random.get_rng_state(), before)  # nothing was drawn
    assert not torch.all(layer.bias == 7.0)  # constant_ was skipped as well
    assert embedding.weight.shape == (5, 4)
    nn.init.constant_(layer.bias, 7.0)  # outside the block initialisers work again
    assert torch.all(layer.bias == 7.0)


def test_loading_a_model_imports_no_compiler_stack() -> None:
    code = (
        "import sys, torch\n"
        "from slotfill.store.model_dir import load_model\n"
        f"load_model({str(MODEL)!r}, torch.device('cpu'))\n"
        "print(sorted(m for m in ('torch._dynamo', 'sympy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
