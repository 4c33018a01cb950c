"""The tagger: word embeddings (+ character CNN) -> BiLSTM -> slot emissions, plus an intent head.

Training (`loss`) and decoding (`decode`) are separate paths; decoding runs in inference mode
and returns ids (labels are attached at the edge, by slotfill.predict).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from slotfill import bio
from slotfill.batching import Batch
from slotfill.config import ModelConfig
from slotfill.crf import CRF
from slotfill.vocab import PAD_ID, UNK_ID, Vocab


class CharCNN(nn.Module):
    """Characters of a word -> one vector: embedding, convolution, max over positions."""

    def __init__(self, num_chars: int, char_dim: int, filters: int, kernel_size: int) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError("the character kernel size must be odd (one output per character)")
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=PAD_ID)
        self.conv = nn.Conv1d(char_dim, filters, kernel_size, padding=kernel_size // 2)

    def forward(self, char_ids: Tensor) -> Tensor:  # (U, W) -> (U, F)
        embedded = self.embedding(char_ids).transpose(1, 2)  # (U, C, W)
        features = torch.relu(self.conv(embedded))[:, :, : char_ids.size(1)]  # (U, F, W), centred on each char
        # max over the word's own characters only: the result must not depend on the batch's padding
        is_char = (char_ids != PAD_ID).unsqueeze(1)  # (U, 1, W)
        pooled = features.masked_fill(~is_char, float("-inf")).max(dim=2).values  # (U, F)
        return pooled.masked_fill(~is_char.any(dim=2), 0.0)  # the padding word: zeros


class Decoded(NamedTuple):
    tag_ids: list[list[int]]  # one list per sentence, of its length
    intent_ids: list[int] | None
    intent_confidences: list[float] | None


class Tagger(nn.Module):
    def __init__(
        self,
        *,
        num_words: int,
        tags: list[str],
        num_intents: int,
        word_dim: int,
        word_dropout: float,
        char_encoder: CharCNN | None,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        lstm_dropout: float,
        dropout: float,
        use_crf: bool,
        intent_loss_weight: float,
    ) -> None:
        super().__init__()
        num_tags = len(tags)
        self.word_dropout = word_dropout
        self.word_embedding = nn.Embedding(num_words, word_dim, padding_idx=PAD_ID)
        self.char_encoder = char_encoder
        input_size = word_dim + (char_encoder.conv.out_channels if char_encoder is not None else 0)
        self.lstm = nn.LSTM(
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=lstm_dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        encoded_size = hidden_size * (2 if bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.slot_head = nn.Linear(encoded_size, num_tags)
        self.crf = CRF(num_tags, *bio.allowed_transitions(tags)) if use_crf else None
        self.intent_head = nn.Linear(2 * encoded_size, num_intents) if num_intents > 0 else None
        self.intent_loss_weight = intent_loss_weight

    def _encode(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        """Emissions (B, L, T) and intent logits (B, K) or None."""
        word_ids, mask = batch.word_ids, batch.mask  # (B, L)
        if self.training and self.word_dropout > 0:
            dropped = torch.rand(word_ids.shape, device=word_ids.device) < self.word_dropout
            word_ids = word_ids.masked_fill(dropped & mask, UNK_ID)
        inputs = self.word_embedding(word_ids)  # (B, L, E)
        if self.char_encoder is not None:
            char_features = self.char_encoder(batch.char_ids)  # (U, F)
            inputs = torch.cat([inputs, char_features[batch.char_index]], dim=2)  # (B, L, E+F)
        inputs = self.dropout(inputs)
        packed = pack_padded_sequence(inputs, batch.lengths, batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=word_ids.size(1))  # (B, L, H)
        states = self.dropout(states)
        emissions = self.slot_head(states)  # (B, L, T)
        intent_logits = None
        if self.intent_head is not None:
            mask3 = mask.unsqueeze(2)  # (B, L, 1)
            pooled_max = states.masked_fill(~mask3, float("-inf")).max(dim=1).values  # (B, H)
            pooled_mean = (states * mask3).sum(1) / batch.lengths.to(states.device).unsqueeze(1)  # (B, H)
            intent_logits = self.intent_head(torch.cat([pooled_max, pooled_mean], dim=1))  # (B, K)
        return emissions, intent_logits

    def loss(self, batch: Batch) -> Tensor:
        """Training objective: slot loss (CRF NLL or token cross-entropy) + weighted intent loss."""
        if batch.tag_ids is None:
            raise ValueError("loss needs a batch with gold tags")
        emissions, intent_logits = self._encode(batch)
        mask = batch.mask
        if self.crf is not None:
            slot_loss = self.crf.neg_log_likelihood(emissions, batch.tag_ids, mask).mean()
        else:
            # summed over tokens, averaged over sentences: the same scale as the CRF's NLL
            token_loss = nn.functional.cross_entropy(emissions[mask], batch.tag_ids[mask], reduction="sum")
            slot_loss = token_loss / mask.size(0)
        if intent_logits is None or batch.intent_ids is None:
            return slot_loss
        return slot_loss + self.intent_loss_weight * nn.functional.cross_entropy(intent_logits, batch.intent_ids)

    @torch.inference_mode()
    def decode(self, batch: Batch) -> Decoded:
        emissions, intent_logits = self._encode(batch)
        if self.crf is not None:
            best = self.crf.viterbi(emissions, batch.mask)  # (B, L)
        else:
            best = emissions.argmax(dim=2)  # (B, L)
        rows = best.cpu().tolist()
        tag_ids = [row[:n] for row, n in zip(rows, batch.lengths.tolist())]
        if intent_logits is None:
            return Decoded(tag_ids, None, None)
        confidence, intent = intent_logits.softmax(dim=1).max(dim=1)  # (B,), (B,)
        return Decoded(tag_ids, intent.cpu().tolist(), confidence.cpu().tolist())


def build_tagger(config: ModelConfig, vocab: Vocab) -> Tagger:
    """A freshly initialised tagger for the sizes in `config` and `vocab`."""
    chars = config.chars
    char_encoder = CharCNN(len(vocab.chars), chars.dim, chars.filters, chars.kernel_size) if chars.enabled else None
    encoder = config.encoder
    return Tagger(
        num_words=len(vocab.words),
        tags=vocab.tags.items,
        num_intents=len(vocab.intents) if config.intent.enabled else 0,
        word_dim=config.embedding.dim,
        word_dropout=config.embedding.word_dropout,
        char_encoder=char_encoder,
        hidden_size=encoder.hidden_size,
        num_layers=encoder.num_layers,
        bidirectional=encoder.bidirectional,
        lstm_dropout=encoder.dropout,
        dropout=config.dropout,
        use_crf=config.decoder == "crf",
        intent_loss_weight=config.intent.loss_weight,
    )
