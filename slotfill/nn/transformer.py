"""A pretrained transformer encoder (a Hugging Face model folder: config.json, model.safetensors,
tokenizer.json) as one more input feature of the tagger: its last layer, pooled from word pieces to
slotfill's tokens (slotfill.features.wordpieces), concatenated with the word, character, vector and
gazetteer features (the way flair stacks transformer embeddings under its BiLSTM-CRF).

Two modes (model.transformer.mode):
- frozen: the transformer is not trained; a training sentence's features are computed once, without
  gradient, and rounded to float16 (as tagging then reads them);
- fine_tuned: the transformer is a part of the tagger (Tagger.transformer), trained with its own
  learning rate and warm-up: in training it runs on each batch's word pieces with gradient, and
  the model directory's encoder/ holds the trained weights.
Tagging is the same for both: `TransformerFeatures` runs the transformer in batch-invariant groups
(slotfill.features.wordpieces.PieceFeatures), through the same `Transformer` graph training
runs and `slotfill export` writes.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from slotfill.errors import ConfigError, ModelError
from slotfill.features.wordpieces import TOKENIZER_FILE, PieceArrays, PieceFeatures, PieceReader, WordPieces
from slotfill.files import atomic_write_bytes

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
TRANSFORMER_FILES = (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE)  # what a model directory keeps of its encoder
# model types read as encoders (AutoModel gives their last hidden states); a decoder-only or
# sequence-to-sequence model is refused
TRANSFORMER_TYPES = ("bert", "distilbert", "roberta", "xlm-roberta", "camembert", "electra", "deberta-v2", "mpnet")


class Transformer(nn.Module):
    """The transformer and the pooling of its piece states into token features, as one graph: what
    training runs with gradient, tagging without, and `slotfill export` writes to encoder/model.onnx.
    A piece's state is the mean of the hidden states of `layers` (0: the embeddings, N: the
    model's top layer, which is the highest layer used: the ones above it are not built)."""

    def __init__(self, model: nn.Module, layers: tuple[int, ...]) -> None:
        super().__init__()
        self.model, self.layers = model, layers

    @property
    def size(self) -> int:
        return int(self.model.config.hidden_size)  # type: ignore[union-attr]

    def forward(self, ids: Tensor, mask: Tensor, index: Tensor, weight: Tensor) -> Tensor:
        """(R, P) piece ids and mask, (N, T, K) pooling index and weight -> (N, T, H) token features."""
        top = int(self.model.config.num_hidden_layers)  # type: ignore[union-attr]
        if self.layers == (top,):
            states = self.model(input_ids=ids, attention_mask=mask).last_hidden_state  # (R, P, H)
        else:
            hidden = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
            states = torch.stack([hidden[layer] for layer in self.layers]).mean(dim=0)  # (R, P, H)
        rows = states.reshape(-1, states.size(2))  # (R * P, H)
        pooled = rows.index_select(0, index.reshape(-1)).view(*index.shape, rows.size(1))  # (N, T, K, H)
        return (pooled * weight.unsqueeze(3)).sum(dim=2)  # (N, T, H)


class TransformerFeatures(PieceFeatures):
    """A model's transformer as features of sentences (torch): sentences of tokens in, one (L, H)
    array per sentence out, computed without gradient in eval mode (the module's own mode is
    restored after: in training it is the tagger's, being trained)."""

    def __init__(self, transformer: Transformer, reader: PieceReader, directory: Path, *, half: bool) -> None:
        super().__init__(reader, self._run, transformer.size, half=half)
        self.transformer, self.directory = transformer, Path(directory)

    @property
    def model(self) -> nn.Module:
        return self.transformer.model

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.transformer.parameters())

    @torch.inference_mode()
    def _run(self, arrays: PieceArrays) -> np.ndarray:
        device = next(self.transformer.parameters()).device
        was_training = self.transformer.training
        self.transformer.eval()
        try:
            pooled = self.transformer(*(torch.from_numpy(a).to(device) for a in arrays))  # (N, T, H)
        finally:
            self.transformer.train(was_training)
        return pooled.float().cpu().numpy()


def load_transformer(directory: Path, layers: Sequence[int] = (-1,)) -> tuple[Transformer, WordPieces]:
    """The transformer of a Hugging Face model folder and its word pieces, checked: its files, that it
    is a transformer, and that its word pieces fit its vocabulary. Raises ModelError naming the folder
    (ConfigError for `layers` it does not have). Only the layers up to the highest used are built."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelError(
            f"{directory}: no such transformer folder (a Hugging Face model folder: {', '.join(TRANSFORMER_FILES)})"
        )
    for name in TRANSFORMER_FILES:
        if not (directory / name).is_file():
            raise ModelError(
                f"{directory / name}: missing (an transformer folder holds {', '.join(TRANSFORMER_FILES)})"
            )
    try:
        from transformers import AutoConfig, AutoModel
    except ImportError:
        raise ModelError(
            f"{directory}: reading a transformer needs the transformers package: pip install 'slotfill[transformers]'"
        ) from None
    try:
        config = AutoConfig.from_pretrained(str(directory), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"{directory / CONFIG_FILE}: not a model config ({str(error).splitlines()[0]})") from None
    if config.model_type not in TRANSFORMER_TYPES or getattr(config, "is_encoder_decoder", False):
        raise ModelError(
            f"{directory / CONFIG_FILE}: model type {config.model_type!r} is not an encoder-only transformer "
            f"(slotfill reads {', '.join(TRANSFORMER_TYPES)})"
        )
    pieces = WordPieces.from_dir(directory, _max_pieces(config))
    if pieces.vocab_size > config.vocab_size:
        raise ModelError(
            f"{directory / TOKENIZER_FILE}: {pieces.vocab_size} word pieces for a model of {config.vocab_size}: "
            "the tokenizer does not match the weights"
        )
    chosen = chosen_layers(layers, int(config.num_hidden_layers), directory)
    config.num_hidden_layers = max(chosen)
    return Transformer(_model_with_weights(AutoModel, config, directory / WEIGHTS_FILE), chosen), pieces


def chosen_layers(layers: Sequence[int], count: int, directory: Path) -> tuple[int, ...]:
    """`layers` as indices of the hidden states (0: the embeddings, 1 to `count`: the layers; a
    negative one counts from the top, -1 the last). Raises ConfigError for one the transformer lacks."""
    chosen = tuple(layer if layer >= 0 else count + 1 + layer for layer in layers)
    wrong = [given for given, layer in zip(layers, chosen) if not 0 <= layer <= count]
    if wrong:
        raise ConfigError(
            f"model.transformer.layers: {wrong[0]} is not a layer of the transformer in {directory} "
            f"(0 is its embeddings, 1 to {count} its layers, -1 the last)"
        )
    return chosen


def load_transformer_features(
    directory: Path, pooling: str, device: torch.device, *, half: bool, layers: Sequence[int] = (-1,)
) -> TransformerFeatures:
    """A model folder's encoder as features (not trained: no gradient); `half` for a frozen one."""
    encoder, pieces = load_transformer(directory, layers)
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    return TransformerFeatures(encoder.to(device).eval(), PieceReader(pieces, pooling), directory, half=half)


def _model_with_weights(auto_model: Any, config: Any, weights: Path) -> torch.nn.Module:
    """The model of `config` with the weights of a safetensors file (with or without the model's
    name prefix: "bert.embeddings..." or "embeddings..."); a weight the model needs and the file
    lacks is an error. Built and loaded here, not by from_pretrained, which prints a report."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        model = auto_model.from_config(config, add_pooling_layer=False)  # BERT-like: no sentence pooler
    except TypeError:
        model = auto_model.from_config(config)
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError) as error:
        raise ModelError(f"{weights}: damaged weights ({error})") from None
    prefix = f"{model.base_model_prefix}."
    state = {name.removeprefix(prefix): tensor for name, tensor in state.items()}
    expected = model.state_dict()
    missing = sorted(name for name in expected if name not in state)
    if missing:
        raise ModelError(
            f"{weights}: weights do not fit {config.model_type} {config.hidden_size}-wide ({missing[0]} missing)"
        )
    wrong = next((n for n, t in expected.items() if tuple(state[n].shape) != tuple(t.shape)), None)
    if wrong is not None:
        raise ModelError(
            f"{weights}: weights do not fit the config ({wrong} is {list(state[wrong].shape)} in the file, "
            f"{list(expected[wrong].shape)} for config.json)"
        )
    model.load_state_dict({name: state[name] for name in expected}, strict=True)
    return model


def _max_pieces(config: object) -> int:
    """The most pieces one window holds: the model's positions (RoBERTa-like models start theirs
    after the padding id, two fewer)."""
    positions = int(getattr(config, "max_position_embeddings", 512))
    return positions - 2 if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert") else positions


def copy_transformer(source: Path, target: Path, encoder: Transformer | None = None) -> None:
    """The transformer's files into a model directory's `encoder/` (a staging directory: swapped in
    whole); with `encoder` (a fine-tuned one), its trained weights in place of the source's (the
    layers above the highest it uses kept as they were: the folder is the whole model)."""
    from safetensors.torch import load_file, save

    target.mkdir()
    for name in TRANSFORMER_FILES:
        if encoder is None or name != WEIGHTS_FILE:
            shutil.copyfile(Path(source) / name, target / name)
    if encoder is not None:
        prefix = f"{encoder.model.base_model_prefix}."  # type: ignore[union-attr]
        state = {name.removeprefix(prefix): t for name, t in load_file(str(Path(source) / WEIGHTS_FILE)).items()}
        state.update({name: t.detach().cpu() for name, t in encoder.model.state_dict().items()})
        tensors = {name: t.contiguous() for name, t in state.items()}
        atomic_write_bytes(target / WEIGHTS_FILE, save(tensors, metadata={"format": "pt"}))  # the umask's permissions
