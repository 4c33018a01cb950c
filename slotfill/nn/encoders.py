"""The recurrent family as one encoder: (B, L, D) inputs -> (B, L, H x directions) states.

`rnn` (Elman), `gru` and `lstm` are torch's fused modules over packed sequences. The others are
written here as cells: `jordan` (the previous step's output distribution fed back instead of the
hidden state), `peephole_lstm` (gates also see the cell: f, i from C_{t-1}, o from C_t) and
`cifg_lstm` (coupled input and forget gates: C_t = f_t*C_{t-1} + (1-f_t)*C~_t).
They are made fast enough by projecting the inputs of all time steps in one matmul before the time
loop, which is then left with one small recurrent matmul per step. A backward direction runs the
same cell over each sentence reversed within its own length, so padding never enters a state.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from slotfill.nn.linear import RowInvariantLinear

FUSED = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}  # torch's own modules (choices.FUSED_CELLS)

Activation = Callable[[Tensor], Tensor]


def identity(x: Tensor) -> Tensor:
    return x


class LSTMVariantCell(nn.Module):
    """An LSTM cell with optional peepholes and optional coupled input/forget gates.

    `cell_input` (g) and `cell_output` (h) activations default to tanh; the textbook examples use
    linear ones."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        peephole: bool,
        coupled: bool,
        cell_input: Activation = torch.tanh,
        cell_output: Activation = torch.tanh,
    ) -> None:
        super().__init__()
        self.hidden_size, self.peephole, self.coupled = hidden_size, peephole, coupled
        self.cell_input, self.cell_output = cell_input, cell_output
        gates = 3 if coupled else 4  # (f, g, o) or (i, f, g, o)
        self.input_weights = RowInvariantLinear(input_size, gates * hidden_size)
        self.recurrent_weights = RowInvariantLinear(hidden_size, gates * hidden_size, bias=False)
        if peephole:
            self.peep_input = nn.Parameter(torch.zeros(hidden_size))
            self.peep_forget = nn.Parameter(torch.zeros(hidden_size))
            self.peep_output = nn.Parameter(torch.zeros(hidden_size))
        with torch.no_grad():  # forget gate bias 1: remember by default
            forget = slice(0, hidden_size) if coupled else slice(hidden_size, 2 * hidden_size)
            self.input_weights.bias[forget].fill_(1.0)

    def forward(self, projected: Tensor) -> Tensor:
        """(B, L, G*H) inputs already through `input_weights` -> (B, L, H) outputs."""
        batch, length, _ = projected.shape
        h = projected.new_zeros(batch, self.hidden_size)  # (B, H)
        c = projected.new_zeros(batch, self.hidden_size)  # (B, H)
        outputs = []
        for t in range(length):
            pre = projected[:, t] + self.recurrent_weights(h)  # (B, G*H)
            if self.coupled:
                f_pre, g_pre, o_pre = pre.chunk(3, dim=1)
            else:
                i_pre, f_pre, g_pre, o_pre = pre.chunk(4, dim=1)
            if self.peephole:
                f_pre = f_pre + self.peep_forget * c
                if not self.coupled:
                    i_pre = i_pre + self.peep_input * c
            f = torch.sigmoid(f_pre)
            i = 1.0 - f if self.coupled else torch.sigmoid(i_pre)
            c = f * c + i * self.cell_input(g_pre)
            if self.peephole:
                o_pre = o_pre + self.peep_output * c
            h = torch.sigmoid(o_pre) * self.cell_output(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1)


class JordanCell(nn.Module):
    """h_t = tanh(W x_t + U y_{t-1} + b), y_t = softmax(V h_t + c): the output is fed back.

    The cell's own output layer has `output_size` units (the tagger passes its number of tags)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.hidden_size, self.output_size = hidden_size, output_size
        self.input_weights = RowInvariantLinear(input_size, hidden_size)
        self.recurrent_weights = RowInvariantLinear(output_size, hidden_size, bias=False)
        self.output_layer = RowInvariantLinear(hidden_size, output_size)

    def forward(self, projected: Tensor) -> Tensor:  # (B, L, H) -> (B, L, H)
        batch, length, _ = projected.shape
        y = projected.new_zeros(batch, self.output_size)  # (B, O)
        outputs = []
        for t in range(length):
            h = torch.tanh(projected[:, t] + self.recurrent_weights(y))  # (B, H)
            y = torch.softmax(self.output_layer(h), dim=1)
            outputs.append(h)
        return torch.stack(outputs, dim=1)


def reverse_within_lengths(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of (B, L, D) over its first `length` steps; padding stays put."""
    batch, length = x.shape[:2]
    steps = torch.arange(length, device=x.device).expand(batch, length)  # (B, L)
    lens = lengths.to(x.device).unsqueeze(1)  # (B, 1)
    index = torch.where(steps < lens, lens - 1 - steps, steps)  # (B, L)
    return x.gather(1, index.unsqueeze(2).expand_as(x))


# slotfill's own cells, built from (input size, hidden size, Jordan output size); with FUSED, every
# cell of choices.CELLS, one entry each (tests/nn holds the two tables equal to CELLS)
OWN_CELLS: dict[str, Callable[[int, int, int], nn.Module]] = {
    "jordan": lambda inputs, hidden, outputs: JordanCell(inputs, hidden, outputs),
    "peephole_lstm": lambda inputs, hidden, outputs: LSTMVariantCell(inputs, hidden, peephole=True, coupled=False),
    "cifg_lstm": lambda inputs, hidden, outputs: LSTMVariantCell(inputs, hidden, peephole=False, coupled=True),
}


def make_cell(cell: str, input_size: int, hidden_size: int, output_size: int) -> nn.Module:
    return OWN_CELLS[cell](input_size, hidden_size, output_size)


class RecurrentEncoder(nn.Module):
    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        *,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        jordan_output_size: int = 0,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__()
        self.cell, self.num_layers, self.bidirectional = cell, num_layers, bidirectional
        directions = 2 if bidirectional else 1
        self.output_size = hidden_size * directions
        self.fused: nn.Module | None = None
        if cell in FUSED:
            extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
            self.fused = FUSED[cell](
                input_size,
                hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                dropout=dropout if num_layers > 1 else 0.0,
                batch_first=True,
                **extra,
            )
            return
        self.layers = nn.ModuleList(
            nn.ModuleList(
                make_cell(
                    cell, input_size if layer == 0 else self.output_size, hidden_size, jordan_output_size or hidden_size
                )
                for _ in range(directions)
            )
            for layer in range(num_layers)
        )
        self.between_layers = nn.Dropout(dropout)

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, D), (B,) on the CPU -> (B, L, H x directions); positions past a length are junk."""
        if self.fused is not None and not self.training:
            return self._fused_by_direction(inputs, lengths)
        if self.fused is not None:
            packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
            states, _ = self.fused(packed)
            return pad_packed_sequence(states, batch_first=True, total_length=inputs.size(1))[0]
        x = inputs
        for depth, directions in enumerate(self.layers):
            if depth > 0:
                x = self.between_layers(x)
            forward_cell = directions[0]
            outputs = [forward_cell(forward_cell.input_weights(x))]
            if self.bidirectional:
                backward_cell = directions[1]
                reversed_x = reverse_within_lengths(x, lengths)
                outputs.append(reverse_within_lengths(backward_cell(backward_cell.input_weights(reversed_x)), lengths))
            x = torch.cat(outputs, dim=2)
        return x

    def _fused_by_direction(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Inference: each direction of each layer as its own unpacked run over the padded batch,
        the backward one over each sentence reversed within its length. Every step then multiplies
        all B rows (never a batch that shrinks as sentences end), so a sentence's states do not
        depend on the lengths of the others (see slotfill.features.rows.ROW_MULTIPLE)."""
        fused = self.fused
        assert fused is not None
        function = {"lstm": torch.lstm, "gru": torch.gru, "rnn": torch.rnn_tanh}[self.cell]
        x = inputs
        for layer in range(self.num_layers):
            outputs = []
            for suffix in ("", "_reverse")[: 2 if self.bidirectional else 1]:
                names = (
                    f"weight_ih_l{layer}{suffix}",
                    f"weight_hh_l{layer}{suffix}",
                    f"bias_ih_l{layer}{suffix}",
                    f"bias_hh_l{layer}{suffix}",
                )
                params = [getattr(fused, n) for n in names]
                source = x if not suffix else reverse_within_lengths(x, lengths)
                h0 = source.new_zeros(1, source.size(0), fused.hidden_size)
                hx = (h0, h0) if self.cell == "lstm" else h0
                states = function(source, hx, params, True, 1, 0.0, False, False, True)[0]
                outputs.append(states if not suffix else reverse_within_lengths(states, lengths))
            x = torch.cat(outputs, dim=2)
        return x
