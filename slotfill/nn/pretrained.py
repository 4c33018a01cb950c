"""A pretrained transformer encoder (a Hugging Face model folder: config.json, model.safetensors,
tokenizer.json) as one more input feature of the tagger, frozen: its last layer, pooled from word
pieces to slotfill's tokens (the first piece or their mean), is computed without gradient and
concatenated with the word, character, vector and gazetteer features (the way flair stacks
transformer embeddings under its BiLSTM-CRF).

A sentence's features do not depend on the sentences it is computed with: windows are grouped by
their piece count rounded up to PIECE_BUCKET, and each group is run as rows padded to a multiple
of ROW_MULTIPLE, so a window has the same shapes (and BLAS the same order of sums) alone as in any
batch.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from slotfill.errors import ModelError
from slotfill.features.arrays import ROW_MULTIPLE
from slotfill.features.wordpieces import TOKENIZER_FILE, PieceWindow, WordPieces

ENCODER_FILES = ("config.json", "model.safetensors", TOKENIZER_FILE)  # what a model directory keeps of its encoder
PIECE_BUCKET = 16
# model types read as encoders (AutoModel gives their last hidden states); a decoder-only or
# sequence-to-sequence model is refused
ENCODER_TYPES = ("bert", "distilbert", "roberta", "xlm-roberta", "camembert", "electra", "deberta-v2", "mpnet")
WINDOWS_PER_RUN = 64  # windows of one piece count run through the encoder at once


class PretrainedWords:
    """Sentences of tokens in, one (L, H) float32 array of encoder features per sentence out."""

    def __init__(self, model: torch.nn.Module, pieces: WordPieces, pooling: str, directory: Path) -> None:
        self.model, self.pieces, self.pooling, self.directory = model.eval(), pieces, pooling, directory
        self.size = int(model.config.hidden_size)
        self.cache: dict[tuple[str, ...], np.ndarray] | None = None  # training sets one: a sentence is encoded once

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def __call__(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        keys = [tuple(tokens) for tokens in sentences]
        wanted = [i for i, key in enumerate(keys) if self.cache is None or key not in self.cache]
        windows = [(i, window) for i in wanted for window in self.pieces.windows(sentences[i])]
        pooled = self._pooled([window for _, window in windows])
        per_sentence: dict[int, list[np.ndarray]] = {}
        for (sentence, _), features in zip(windows, pooled):
            per_sentence.setdefault(sentence, []).append(features)
        # (L, H) each, float16 as the model reads it: the same rounding in training and tagging
        out = {i: np.concatenate(per_sentence[i]).astype(np.float16) for i in wanted}
        if self.cache is not None:
            self.cache.update((keys[i], features) for i, features in out.items())
            return [self.cache[key] for key in keys]
        return [out[i] for i in range(len(keys))]

    def _pooled(self, windows: list[PieceWindow]) -> list[np.ndarray]:
        """Each window's token features (T, H), in order; windows run in groups of one bucket."""
        result: list[np.ndarray | None] = [None] * len(windows)
        buckets: dict[int, list[int]] = {}
        for index, window in enumerate(windows):
            buckets.setdefault(-(-len(window.ids) // PIECE_BUCKET) * PIECE_BUCKET, []).append(index)
        for width, members in sorted(buckets.items()):
            for start in range(0, len(members), WINDOWS_PER_RUN):
                group = members[start : start + WINDOWS_PER_RUN]
                for index, features in zip(group, self._run([windows[i] for i in group], width)):
                    result[index] = features
        return [r for r in result if r is not None]

    @torch.inference_mode()
    def _run(self, windows: list[PieceWindow], width: int) -> list[np.ndarray]:
        rows = len(windows) + (-len(windows) % ROW_MULTIPLE)  # filler rows: copies of the first window
        ids = torch.zeros(rows, width, dtype=torch.long)  # (R, P), padded with the pad piece
        ids.fill_(int(getattr(self.model.config, "pad_token_id", 0) or 0))
        attention = torch.zeros(rows, width, dtype=torch.long)  # (R, P)
        for row in range(rows):
            window = windows[row] if row < len(windows) else windows[0]
            ids[row, : len(window.ids)] = torch.tensor(window.ids)
            attention[row, : len(window.ids)] = 1
        device = next(self.model.parameters()).device
        states = self.model(
            input_ids=ids.to(device), attention_mask=attention.to(device)
        ).last_hidden_state  # (R, P, H)
        return [_pool(states[row], window.token_pieces, self.pooling) for row, window in enumerate(windows)]


def _pool(states: Tensor, token_pieces: list[list[int]], pooling: str) -> np.ndarray:
    """(P, H) piece states -> (T, H) token features: each token's first piece, or the mean of its pieces."""
    if pooling == "first":
        return states[[own[0] for own in token_pieces]].float().cpu().numpy()
    return torch.stack([states[own].mean(dim=0) for own in token_pieces]).float().cpu().numpy()


def load_pretrained_words(directory: Path, pooling: str, device: torch.device) -> PretrainedWords:
    """The encoder of a Hugging Face model folder, checked: its files, that it is an encoder, and
    that its word pieces fit its vocabulary. Raises ModelError naming the folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelError(
            f"{directory}: no such encoder folder (a Hugging Face model folder: {', '.join(ENCODER_FILES)})"
        )
    for name in ENCODER_FILES:
        if not (directory / name).is_file():
            raise ModelError(f"{directory / name}: missing (an encoder folder holds {', '.join(ENCODER_FILES)})")
    try:
        from transformers import AutoConfig, AutoModel
    except ImportError:
        raise ModelError(
            f"{directory}: reading an encoder needs transformers: pip install 'slotfill[encoders]'"
        ) from None
    try:
        config = AutoConfig.from_pretrained(str(directory), local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"{directory / 'config.json'}: not a model config ({str(error).splitlines()[0]})") from None
    if config.model_type not in ENCODER_TYPES or getattr(config, "is_encoder_decoder", False):
        raise ModelError(
            f"{directory / 'config.json'}: model type {config.model_type!r} is not an encoder "
            f"(slotfill reads {', '.join(ENCODER_TYPES)})"
        )
    pieces = WordPieces.from_dir(directory, _max_pieces(config))
    if pieces.vocab_size > config.vocab_size:
        raise ModelError(
            f"{directory / TOKENIZER_FILE}: {pieces.vocab_size} word pieces for a model of {config.vocab_size}: "
            "the tokenizer does not match the weights"
        )
    model = _model_with_weights(AutoModel, config, directory / "model.safetensors")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return PretrainedWords(model.to(device), pieces, pooling, directory)


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


def copy_encoder(source: Path, target: Path) -> None:
    """The encoder's files into a model directory's `encoder/` (a staging directory: swapped in whole)."""
    target.mkdir()
    for name in ENCODER_FILES:
        shutil.copyfile(Path(source) / name, target / name)
