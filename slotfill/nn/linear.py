"""A linear layer whose output rows do not depend on the other rows of its input.

A sentence's parse must be the same alone or in any batch. BLAS libraries choose their kernels
by the shape of a matrix product, and on some CPUs the choice changes how a row's sums are
rounded: MKL on an AVX-512 Xeon gives an 800 -> 6 layer's row one result with 8 rows beside it
and another with 16 or more (the last bit, enough to move a confidence's last digit), which the
8-row padding of slotfill.features.rows.ROW_MULTIPLE cannot prevent. A product of a fixed
number of rows is computed by one kernel, whatever the rows are and wherever a row sits among
them (tests/themes/test_batch_invariance.py holds it), so at inference this layer multiplies its
input in blocks of exactly ROW_BLOCK rows, the last one padded with zeros. Training (and the ONNX
export, whose runtime has its own kernels) keeps the single product.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional

ROW_BLOCK = 64  # rows per product at inference


def blocked_linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """(..., I) -> (..., O), computed as products of ROW_BLOCK rows each."""
    flat = x.reshape(-1, x.size(-1))  # (N, I)
    rows = flat.size(0)
    missing = -rows % ROW_BLOCK
    if missing:
        flat = torch.cat([flat, flat.new_zeros(missing, flat.size(1))])
    out = torch.cat([functional.linear(block, weight, bias) for block in flat.split(ROW_BLOCK)])  # (N', O)
    return out[:rows].reshape(*x.shape[:-1], weight.size(0))


class RowInvariantLinear(nn.Linear):
    """nn.Linear (same parameters, same state dict keys) that, in eval mode on the CPU, computes
    each row as blocked_linear does."""

    def forward(self, x: Tensor) -> Tensor:
        if self.training or x.device.type != "cpu" or torch.onnx.is_in_onnx_export():
            return super().forward(x)
        return blocked_linear(x, self.weight, self.bias)
