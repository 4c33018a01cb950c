"""The recurrent family: the lecture notes' worked examples, run through slotfill's own encoder,
and properties every cell must have."""

import pytest
import torch
from torch import nn

from slotfill.choices import CELLS
from slotfill.nn.encoders import LSTMVariantCell, RecurrentEncoder, identity, reverse_within_lengths


def elman(nonlinearity: str = "relu") -> tuple[RecurrentEncoder, nn.Linear]:
    """Two inputs, two hidden units (memory starts at 0), a second layer of two units; every weight
    1, no bias. Every pre-activation in the example is positive, where relu is the identity: this is
    the example's linear network, run by the fused torch.nn.RNN inside RecurrentEncoder."""
    encoder = RecurrentEncoder("rnn", 2, 2, bidirectional=False, nonlinearity=nonlinearity)
    output_layer = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        for name, parameter in encoder.named_parameters():
            parameter.fill_(0.0 if "bias" in name else 1.0)
        output_layer.weight.fill_(1.0)
    return encoder, output_layer


def test_elman_worked_example() -> None:
    encoder, output_layer = elman()
    inputs = torch.tensor([[[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]])  # (B=1, L=3, 2)
    hidden = encoder(inputs, torch.tensor([3]))
    assert hidden[0].tolist() == [[2, 2], [6, 6], [16, 16]]
    assert output_layer(hidden)[0].tolist() == [[4, 4], [12, 12], [32, 32]]
    reordered = encoder(torch.tensor([[[2.0, 2.0], [1.0, 1.0], [1.0, 1.0]]]), torch.tensor([3]))
    assert output_layer(reordered)[0].tolist() == [[8, 8], [20, 20], [44, 44]]  # same inputs, other order


def test_lstm_memory_cell_worked_example() -> None:
    """One memory cell, linear g and h, sigmoid gates: z = x1, input gate 100·x2 − 10, forget gate
    100·x2 + 10, output gate 100·x3 − 10. It stores 3, then 7, keeps 7, outputs it at step 4, and is
    reset at step 5. Run through the peephole LSTM with its peepholes at zero."""
    encoder = RecurrentEncoder("peephole_lstm", 3, 1, bidirectional=False)
    cell = encoder.layers[0][0]
    assert isinstance(cell, LSTMVariantCell)
    cell.cell_input = cell.cell_output = identity
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.zero_()
        # rows: input gate, forget gate, cell input, output gate
        cell.input_weights.weight.copy_(torch.tensor([[0.0, 100, 0], [0, 100, 0], [1, 0, 0], [0, 0, 100]]))
        cell.input_weights.bias.copy_(torch.tensor([-10.0, 10, 0, -10]))
    sequence = torch.tensor([[[3.0, 1, 0], [4, 1, 0], [2, 0, 0], [1, 0, 1], [3, -1, 0]]])
    outputs = encoder(sequence, torch.tensor([5]))[0, :, 0]
    assert outputs.tolist() == pytest.approx([0, 0, 0, 7, 0], abs=0.01)


def test_peepholes_let_the_gates_see_the_cell() -> None:
    torch.manual_seed(0)
    cell = LSTMVariantCell(3, 4, peephole=True, coupled=False)
    x = cell.input_weights(torch.randn(2, 5, 3))
    before = cell(x)
    with torch.no_grad():
        cell.peep_output.fill_(5.0)
    assert not torch.allclose(before, cell(x))


def test_coupled_gates_keep_the_cell_when_forgetting_nothing() -> None:
    cell = LSTMVariantCell(1, 1, peephole=False, coupled=True, cell_input=identity, cell_output=identity)
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.zero_()
        cell.input_weights.weight.copy_(torch.tensor([[0.0], [1.0], [0.0]]))  # f, g, o
        cell.input_weights.bias.copy_(torch.tensor([-50.0, 0.0, 50.0]))  # f = 0: take the input; o = 1
    x = torch.tensor([[[2.0], [5.0]]])
    assert cell(cell.input_weights(x))[0, :, 0].tolist() == pytest.approx([2.0, 5.0], abs=1e-4)  # (1 - f) = 1
    with torch.no_grad():
        cell.input_weights.bias[0] = 50.0  # f = 1: keep the (zero) cell, ignore the input
    assert cell(cell.input_weights(x))[0, :, 0].tolist() == pytest.approx([0.0, 0.0], abs=1e-4)


def test_reverse_within_lengths_leaves_padding_in_place() -> None:
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]]).unsqueeze(2)
    assert reverse_within_lengths(x, torch.tensor([3, 2]))[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_is_padding_independent_and_trainable(cell: str) -> None:
    torch.manual_seed(1)
    encoder = RecurrentEncoder(cell, 5, 4, num_layers=2, bidirectional=True, jordan_output_size=3).eval()
    inputs = torch.randn(2, 6, 5)
    lengths = torch.tensor([6, 3])
    together = encoder(inputs, lengths)
    assert together.shape == (2, 6, 8)
    alone = encoder(inputs[1:, :3], torch.tensor([3]))
    assert torch.allclose(alone[0], together[1, :3], atol=1e-5)
    encoder.train()
    encoder(inputs, lengths)[0].sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in encoder.parameters())


def test_jordan_feeds_back_its_output_not_its_hidden_state() -> None:
    encoder = RecurrentEncoder("jordan", 2, 3, bidirectional=False, jordan_output_size=4)
    cell = encoder.layers[0][0]
    assert cell.recurrent_weights.in_features == 4  # the output distribution, not the 3 hidden units


def test_every_cell_the_config_offers_is_one_entry_of_the_tables() -> None:
    """choices.CELLS (the config's model.encoder.cell) is torch's fused modules and slotfill's own
    cells, each named once: a cell added to a table is offered, one offered is built."""
    from slotfill.choices import CELLS, FUSED_CELLS
    from slotfill.nn.encoders import FUSED, OWN_CELLS

    assert tuple(FUSED) == FUSED_CELLS
    assert sorted(CELLS) == sorted([*FUSED, *OWN_CELLS]) and not set(FUSED) & set(OWN_CELLS)
