"""The tagger: word input (+ character CNN, + gazetteer features) -> recurrent encoder -> slot
emissions, plus an intent head.

Training (`loss`) and decoding are separate paths: `scores` gives emissions and intent logits in
inference mode, slotfill.decoding turns them into ids (the same code decodes exported models), and
labels are attached at the edge, by slotfill.decoding.tagging.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from slotfill.config import ModelConfig
from slotfill.decoding.crf import BIOConstraints, NumpyCRF
from slotfill.decoding.decoder import decode_scores
from slotfill.decoding.types import Decoded, Decoding
from slotfill.features.arrays import FeatureArrays, TransformerFeaturesFn
from slotfill.features.vocab import UNK_ID, Vocab
from slotfill.nn.batching import Batch
from slotfill.nn.crf import CRF
from slotfill.nn.device import cpu_threads
from slotfill.nn.embeddings import CharCNN, LearnedWords, VectorTable, WordInput, word_input
from slotfill.nn.encoders import RecurrentEncoder
from slotfill.nn.linear import RowInvariantLinear
from slotfill.nn.transformer import Transformer
from slotfill.text import bio

ATTENTION_SIZE = 64  # hidden units of the intent attention's scorer
VECTOR_WEIGHTS = "word_input.vectors"  # the frozen word vectors' name in a state dict
TRANSFORMER_PREFIX = "transformer."  # a fine-tuned transformer's prefix in a state dict
# state-dict names before 0.5 -> now, by (previous name part, name part): weights saved by 0.4 load
RENAMED_WEIGHTS = {
    ("word_input", "pretrained"): "vectors",
    ("", "pretrained"): "transformer",
    ("module", "pretrained"): "transformer",  # an average's (torch.optim.swa_utils.AveragedModel)
    ("", "char_encoder"): "char_cnn",
    ("module", "char_encoder"): "char_cnn",
}
T = TypeVar("T")


class ContextInput(nn.Module):
    """How a tagger reads the slots the system requested (a (B, R) multi-hot over vocab.requested):
    `embedding` joins a learned C-wide vector of them to every token's input (feed input), `tag_bias`
    and `intent_bias` add a learned score to each tag and intent (feed bias); feed both does both.
    No bias terms: a turn without context adds nothing."""

    def __init__(self, size: int, feed: str, dim: int, num_tags: int, num_intents: int, dropout: float) -> None:
        super().__init__()
        self.size, self.feed, self.dropout = size, feed, dropout
        inputs, biases = feed in ("input", "both"), feed in ("bias", "both")
        self.embedding = RowInvariantLinear(size, dim, bias=False) if inputs else None
        self.tag_bias = RowInvariantLinear(size, num_tags, bias=False) if biases else None
        self.intent_bias = RowInvariantLinear(size, num_intents, bias=False) if biases and num_intents else None

    @property
    def input_size(self) -> int:
        """What it adds to a token's input."""
        return self.embedding.out_features if self.embedding is not None else 0


class Tagger(nn.Module):
    def __init__(
        self,
        *,
        word_input: WordInput,
        char_cnn: CharCNN | None,
        encoder: RecurrentEncoder,
        tags: list[str],
        num_intents: int,
        word_dropout: float,
        word_dropout_chars: float,
        num_gazetteer_features: int,
        gazetteer_dropout: float,
        dropout: float,
        use_crf: bool,
        intent_loss_weight: float,
        transformer_size: int = 0,
        transformer: Transformer | None = None,
        context: ContextInput | None = None,
    ) -> None:
        """`transformer_size`: the width of a transformer's features (0: none);
        `pretrained`: the transformer itself, where it is fine-tuned: a part of the model in training,
        run on a batch's word pieces (at inference its features come with the batch, computed by
        slotfill.nn.transformer.TransformerFeatures); `context`: how the model reads the slots the
        system requested (None: it reads no dialogue context)."""
        super().__init__()
        num_tags, encoded_size = len(tags), encoder.output_size
        self.word_input, self.char_cnn, self.encoder = word_input, char_cnn, encoder
        self.word_dropout, self.word_dropout_chars = word_dropout, word_dropout_chars
        self.num_gazetteer_features, self.gazetteer_dropout = num_gazetteer_features, gazetteer_dropout
        self.dropout = nn.Dropout(dropout)
        self.slot_head = RowInvariantLinear(encoded_size, num_tags)
        self.tags = list(tags)
        self.crf = CRF(num_tags, *bio.allowed_transitions(tags)) if use_crf else None
        self.intent_head: RowInvariantLinear | None = None
        if num_intents > 0:
            # sentence vector: max over time and an attention-weighted sum (Liu & Lane 2016)
            self.intent_attention = nn.Sequential(
                RowInvariantLinear(encoded_size, ATTENTION_SIZE), nn.Tanh(), RowInvariantLinear(ATTENTION_SIZE, 1)
            )
            self.intent_head = RowInvariantLinear(2 * encoded_size, num_intents)
        self.intent_loss_weight = intent_loss_weight
        self.transformer_size = transformer_size
        self.transformer = transformer
        self.context = context

    def _encode(self, batch: Batch) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Emissions (B, L, T), intent logits (B, K) or None, and the sentence states the intent head
        reads (B, 2H) or None (the out-of-scope distance measures them: slotfill.decoding.neighbours)."""
        word_ids, mask = batch.word_ids, batch.mask  # (B, L)
        dropped = None
        if self.training and self.word_dropout > 0:
            dropped = (torch.rand(word_ids.shape, device=word_ids.device) < self.word_dropout) & mask  # (B, L)
            word_ids = word_ids.masked_fill(dropped, UNK_ID)
        blank = None  # dropped words that lose their characters and pretrained vector too
        hides_more = self.char_cnn is not None or self.word_input.has_vectors
        if dropped is not None and self.word_dropout_chars > 0 and hides_more:
            blank = dropped & (torch.rand(word_ids.shape, device=word_ids.device) < self.word_dropout_chars)  # (B, L)
        inputs = self.word_input(
            word_ids, batch.trigram_ids, batch.type_index, dropped, batch.vector_ids, blank
        )  # (B, L, E)
        if self.char_cnn is not None:
            # index_select, not char_features[type_index]: its backward (index_add) sums in a fixed
            # order, where the advanced-indexing backward does not (seeded runs must repeat exactly)
            per_word = self.char_cnn(batch.char_ids)  # (U, F)
            char_features = per_word.index_select(0, batch.type_index.flatten()).view(*word_ids.shape, -1)  # (B, L, F)
            if blank is not None:
                char_features = char_features.masked_fill(blank.unsqueeze(2), 0.0)
            inputs = torch.cat([inputs, char_features], dim=2)  # (B, L, E+F)
        if self.num_gazetteer_features:
            inputs = torch.cat([inputs, self._gazetteer_inputs(batch.gazetteer_features)], dim=2)  # (B, L, E+F+G)
        if self.transformer_size:
            inputs = torch.cat([inputs, self._transformer_features(batch)], dim=2)  # (B, L, E+F+G+H)
        context = self.context
        requested = self._requested(batch) if context is not None else None  # (B, R)
        if context is not None and requested is not None and context.embedding is not None:
            joined = context.embedding(requested).unsqueeze(1).expand(-1, inputs.size(1), -1)  # (B, L, C)
            inputs = torch.cat([inputs, joined], dim=2)  # (B, L, E+F+G+H+C)
        states = self.encoder(self.dropout(inputs), batch.lengths)  # (B, L, H)
        states = self.dropout(states)
        emissions = self.slot_head(states)  # (B, L, T)
        if context is not None and requested is not None and context.tag_bias is not None:
            emissions = emissions + context.tag_bias(requested).unsqueeze(1)  # (B, L, T)
        intent_logits = sentences = None
        if self.intent_head is not None:
            mask3 = mask.unsqueeze(2)  # (B, L, 1)
            pooled_max = states.masked_fill(~mask3, float("-inf")).max(dim=1).values  # (B, H)
            scores = self.intent_attention(states).masked_fill(~mask3, float("-inf"))  # (B, L, 1)
            attended = _sum_over_time((scores.softmax(dim=1) * states), batch.lengths)  # (B, H)
            sentences = torch.cat([pooled_max, attended], dim=1)  # (B, 2H)
            intent_logits = self.intent_head(sentences)  # (B, K)
            if context is not None and requested is not None and context.intent_bias is not None:
                intent_logits = intent_logits + context.intent_bias(requested)  # (B, K)
        return emissions, intent_logits, sentences

    def _requested(self, batch: Batch) -> Tensor:
        """(B, R) the requested slots of the batch's sentences (none given: zeros, a turn without
        context); in training, each sentence's hidden with probability `context.dropout`."""
        assert self.context is not None
        requested = batch.requested
        if requested is None:
            requested = torch.zeros(batch.word_ids.size(0), self.context.size, device=batch.word_ids.device)
        if requested.size(1) != self.context.size:
            raise ValueError(f"{requested.size(1)} requested slots for a model of {self.context.size}")
        if self.training and self.context.dropout > 0:
            keep = torch.rand(requested.size(0), 1, device=requested.device) >= self.context.dropout  # (B, 1)
            requested = requested * keep
        return requested

    def _transformer_features(self, batch: Batch) -> Tensor:
        """(B, L, H): computed here from the batch's word pieces where the model fine-tunes its
        encoder (training), else the features the batch brings."""
        features = batch.transformer_features
        if self.transformer is not None and batch.piece_ids is not None:
            pieces = (batch.piece_ids, batch.piece_mask, batch.piece_index, batch.piece_weight)
            features = self.transformer(*pieces)  # (B, L, H)
        if features is None or features.size(2) != self.transformer_size:
            raise ValueError(f"this model reads {self.transformer_size} transformer features a token")
        return features

    def _gazetteer_inputs(self, features: Tensor) -> Tensor:
        """(B, L, G) membership bits; in training, each token's match of each list (its B and I bit
        together) is hidden with probability `gazetteer_dropout`."""
        if features.size(2) != self.num_gazetteer_features:
            raise ValueError(f"{features.size(2)} gazetteer features for a model of {self.num_gazetteer_features}")
        if not (self.training and self.gazetteer_dropout > 0):
            return features
        batch, length, width = features.shape
        keep = torch.rand(batch, length, width // 2, device=features.device) >= self.gazetteer_dropout  # (B, L, G/2)
        return features * keep.repeat_interleave(2, dim=2)

    def loss(self, batch: Batch, per_sentences: float | None = None) -> Tensor:
        """Training objective: slot loss (CRF NLL or token cross-entropy) + weighted intent loss,
        averaged over the batch's sentences; with `per_sentences`, summed and divided by that
        instead (a rank's share of a global batch: see slotfill.training.loop)."""
        if batch.tag_ids is None:
            raise ValueError("loss needs a batch with gold tags")
        emissions, intent_logits, _ = self._encode(batch)
        mask = batch.mask
        if self.crf is not None:
            nll = self.crf.neg_log_likelihood(emissions, batch.tag_ids, mask)  # (B,)
            slot_loss = nll.mean() if per_sentences is None else nll.sum() / per_sentences
        else:
            # summed over tokens, averaged over sentences: the same scale as the CRF's NLL
            token_loss = nn.functional.cross_entropy(emissions[mask], batch.tag_ids[mask], reduction="sum")
            slot_loss = token_loss / (mask.size(0) if per_sentences is None else per_sentences)
        if intent_logits is None or batch.intent_ids is None:
            return slot_loss
        if per_sentences is None:
            intent_loss = nn.functional.cross_entropy(intent_logits, batch.intent_ids)
        else:
            intent_loss = nn.functional.cross_entropy(intent_logits, batch.intent_ids, reduction="sum") / per_sentences
        return slot_loss + self.intent_loss_weight * intent_loss

    @torch.inference_mode()
    def scores(self, batch: Batch) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """What decoding starts from, in inference mode: emissions (B, L, T), intent logits (B, K)
        and sentence states (B, 2H), the last two None without an intent head. The decoding itself is slotfill.decoding's, shared with exported models."""
        return self._encode(batch)


def _sum_over_time(x: Tensor, lengths: Tensor) -> Tensor:
    """(B, L, H) -> (B, H): the sum over each sentence's own steps, added one step after the other
    (a running sum read at the last step), so that neither the batch's padded length nor the
    other sentences change a sentence's result."""
    last = (lengths.to(x.device) - 1).view(-1, 1, 1).expand(-1, 1, x.size(2))  # (B, 1, H)
    return x.cumsum(dim=1).gather(1, last).squeeze(1)


class TorchDecoder:
    """A tagger on a device as a slotfill.decoding.types.SentenceDecoder: feature arrays in, ids
    out. The network runs in torch; its scores are decoded by slotfill.decoding (numpy), with a CRF
    built from the tagger's current weights for every batch (they change during training)."""

    def __init__(
        self,
        tagger: Tagger,
        device: torch.device,
        threads: int | None = None,
        transformer_features: TransformerFeaturesFn | None = None,
    ) -> None:
        """`transformer_features`: the model's transformer (slotfill.nn.transformer), where it has one."""
        self.tagger, self.device, self.threads, self._transformer_features = (
            tagger,
            device,
            threads,
            transformer_features,
        )
        self.constraints = BIOConstraints.for_tags(tagger.tags) if tagger.crf is not None else None

    @property
    def has_intent(self) -> bool:
        return self.tagger.intent_head is not None

    @property
    def transformer_features(self) -> TransformerFeaturesFn | None:
        return self._transformer_features

    def decode(self, arrays: FeatureArrays, decoding: Decoding, rows: int | None = None) -> Decoded:
        batch = Batch.from_arrays(arrays).to(self.device)
        was_training = self.tagger.training
        if was_training:  # evaluating during training: only then does the mode switch
            self.tagger.eval()
        try:
            with cpu_threads(self.threads):
                emissions, intent_logits, sentences = self.tagger.scores(batch)
        finally:
            if was_training:
                self.tagger.train()
        crf = None
        if self.tagger.crf is not None and self.constraints is not None:
            crf = self.decoding_crf(self.tagger.crf, self.constraints)
        logits = None if intent_logits is None else _numpy(intent_logits[:rows])
        states = None if sentences is None else _numpy(sentences[:rows])
        return decode_scores(_numpy(emissions[:rows]), logits, arrays.lengths[:rows].tolist(), crf, decoding, states)

    @staticmethod
    def decoding_crf(crf: CRF, constraints: BIOConstraints) -> NumpyCRF:
        """The numpy CRF that decodes with `crf`'s current scores."""
        return NumpyCRF(constraints, *(_numpy(getattr(crf, name)) for name in ("start", "transitions", "end")))


def _numpy(tensor: Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


def build_tagger(
    config: ModelConfig,
    vocab: Vocab,
    num_gazetteer_features: int,
    transformer_size: int = 0,
    transformer: Transformer | None = None,
) -> Tagger:
    """A freshly initialised tagger for the sizes in `config`, `vocab`, the gazetteers and the
    transformer (its features' width; 0: none). `pretrained`: a fine-tuned transformer, as a
    part of the tagger (training; its width is the features')."""
    if transformer is not None:
        transformer_size = transformer.size
    embedding, chars, encoder = config.embedding, config.chars, config.encoder
    join = embedding.vectors.join if embedding.vectors is not None else "concat"
    vectors = VectorTable(len(vocab.vectors), vocab.vector_dim, join) if vocab.vectors is not None else None
    words = word_input(embedding.kind, len(vocab.words), len(vocab.trigrams), embedding.dim, vectors)
    char_cnn = CharCNN(len(vocab.chars), chars.dim, chars.filters, chars.kernel_size) if chars.enabled else None
    input_size = words.output_size + (char_cnn.output_size if char_cnn is not None else 0)
    input_size += num_gazetteer_features + transformer_size
    num_intents = len(vocab.intents) if config.intent.enabled else 0
    context = None
    if len(vocab.requested):  # the vocabulary says whether the model reads context (features.vocab)
        settings = config.context
        context = ContextInput(
            len(vocab.requested), settings.feed, settings.dim, len(vocab.tags), num_intents, settings.dropout
        )
        input_size += context.input_size
    return Tagger(
        word_input=words,
        char_cnn=char_cnn,
        encoder=RecurrentEncoder(
            encoder.cell,
            input_size,
            encoder.hidden_size,
            num_layers=encoder.num_layers,
            bidirectional=encoder.bidirectional,
            dropout=encoder.dropout,
            jordan_output_size=len(vocab.tags),
        ),
        tags=vocab.tags.items,
        num_intents=num_intents,
        word_dropout=embedding.word_dropout,
        word_dropout_chars=embedding.word_dropout_chars,
        num_gazetteer_features=num_gazetteer_features,
        gazetteer_dropout=config.gazetteer_dropout,
        dropout=config.dropout,
        use_crf=config.decoder == "crf",
        intent_loss_weight=config.intent.loss_weight,
        transformer_size=transformer_size,
        transformer=transformer,
        context=context,
    )


def load_vectors(tagger: Tagger, vocab: Vocab, table: np.ndarray) -> None:
    """Put the pretrained vectors (N, D), row for row of `vocab.vectors` after its PAD and UNK, in
    a freshly built tagger; with join `init`, the learned rows of the words they share start from them."""
    words = tagger.word_input
    if vocab.vectors is None or not isinstance(words, LearnedWords) or not words.has_vectors:
        raise ValueError("this tagger has no pretrained vectors")
    with torch.no_grad():
        vectors = words.vectors
        vectors.zero_()
        vectors[2:] = torch.from_numpy(table).to(vectors)
        if words.join == "init":
            shared = [(i, vocab.vectors.get(w)) for i, w in enumerate(vocab.words.items) if i > UNK_ID]
            shared = [(i, row) for i, row in shared if row > UNK_ID]
            if shared:
                rows = torch.tensor(shared, device=vectors.device)  # (S, 2): (word id, vector row)
                words.table.weight[rows[:, 0]] = vectors[rows[:, 1]]


def without_transformer(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A tagger's state without its fine-tuned transformer's weights (saved on their own, in the
    model directory's encoder/, as a Hugging Face model folder)."""
    return {name: tensor for name, tensor in state.items() if not name.startswith(TRANSFORMER_PREFIX)}


def current_names(state: dict[str, T]) -> dict[str, T]:
    """`state` (tensors or shapes by name) with the names weights had before 0.5 (RENAMED_WEIGHTS)
    as they are now: `word_input.pretrained` is `word_input.vectors`, `pretrained.*` is
    `transformer.*`, `char_encoder.*` is `char_cnn.*` (`encoder` is the recurrent encoder alone)."""
    renamed = {}
    for name, value in state.items():
        parts = name.split(".")
        for index, part in enumerate(parts[:3]):
            new = RENAMED_WEIGHTS.get((parts[index - 1] if index else "", part))
            if new is not None:
                parts[index] = new
                break
        renamed[".".join(parts)] = value
    return renamed


def compact_state(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A state dict to save, the pretrained vectors (also under an average's `module.` prefix) as
    float16: lossless, they were rounded to float16 when read (slotfill.features.vectors); loading
    copies them back into the float32 buffer."""
    return {k: v.half() if k.endswith(VECTOR_WEIGHTS) else v for k, v in state.items()}
