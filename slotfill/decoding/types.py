"""What a model decodes to, and how: the contract between the runtimes (torch, onnxruntime) and
the tagging that attaches names to ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    import numpy as np

    from slotfill.config import Config
    from slotfill.decoding.neighbours import NeighbourIndex
    from slotfill.features.arrays import FeatureArrays, TransformerFeaturesFn
    from slotfill.features.gazetteer import GazetteerSet
    from slotfill.features.vocab import Vocab

# a batch's (start, prefix, end) span scores, each (B, L) float32: see slotfill.decoding.crf
SpanScores = tuple["np.ndarray", "np.ndarray", "np.ndarray"]


class Decoded(NamedTuple):
    """What a model decodes from one batch, as ids (names are attached by slotfill.decoding.tagging)."""

    paths: np.ndarray  # (B, L) int64: each sentence's best tag ids (past its length: not its tags)
    lengths: list[int]  # (B,)
    intent_ids: list[int] | None
    intent_confidences: list[float] | None
    span_scores: SpanScores | None  # each slot's confidence comes from these (None: confidences not asked for)
    intent_ranking: list[list[tuple[int, float]]] | None = None  # per sentence, the k best intents
    alternatives: list[list[tuple[list[int], float]]] | None = None  # per sentence, the k best tag sequences
    # per sentence, why its intent is rejected (choices.REJECTION_REASONS) or None, and the
    # confidence of its best in-scope intent (the out-of-scope class left out)
    rejections: list[str | None] | None = None
    in_scope_confidences: list[float] | None = None
    # per sentence, the state the intent head reads (D,) and its distance to the training utterances
    # (slotfill.decoding.neighbours; None where the rejection has no index)
    sentence_states: np.ndarray | None = None  # (B, D) float32
    distances: list[float] | None = None

    @property
    def tag_ids(self) -> list[list[int]]:
        """Each sentence's best tag ids, of its length (built from `paths` on each access: read it once a batch)."""
        return [row[:n] for row, n in zip(self.paths.tolist(), self.lengths)]


@dataclass(frozen=True)
class Rejection:
    """When an utterance is outside the model's intents (docs/out-of-scope.md): its
    best intent is the out-of-scope class (`intent_id`), or its distance to the training
    utterances (`index`) is over `max_distance`, or its best in-scope intent's confidence is below
    `threshold`, or its two best intents are closer than `ambiguity`. The default rejects nothing
    (a model trained without the rejection has no class, no index and no threshold)."""

    intent_id: int | None = None
    threshold: float = 0.0
    ambiguity: float = 0.0
    index: NeighbourIndex | None = None
    max_distance: float = float("inf")


@dataclass(frozen=True)
class Decoding:
    """How to decode: the temperature of the confidences (the model's calibration) and how many
    alternative intents and tag sequences to give (0: none)."""

    temperature: float = 1.0
    alternatives: int = 0
    confidences: bool = True  # False: no slot confidences (only for measuring what they cost)
    rejection: Rejection = Rejection()  # when an utterance's intent is rejected (the model's calibration)


class SentenceDecoder(Protocol):
    """A model that decodes batches of feature arrays: the torch tagger (slotfill.nn.tagger.TorchDecoder)
    or an exported one run by onnxruntime (slotfill.export.runtime.OnnxDecoder)."""

    @property
    def has_intent(self) -> bool: ...

    @property
    def transformer_features(self) -> TransformerFeaturesFn | None:
        """The model's transformer features of sentences (None: it has no transformer)."""
        ...

    def decode(self, arrays: FeatureArrays, decoding: Decoding, rows: int | None = None) -> Decoded:
        """The network runs on every row of `arrays`; only the first `rows` (None: all) are decoded:
        the rest are filler that pads the network's matrices (slotfill.features.rows.ROW_MULTIPLE),
        and a sentence decodes alike whatever the other rows are."""
        ...


class Model(Protocol):
    """What a Predictor needs of a model: slotfill.store.model_dir.LoadedModel (torch) or
    slotfill.export.runtime.ExportedModel (onnxruntime, no torch)."""

    config: Config
    vocab: Vocab
    metrics: dict[str, Any]
    gazetteers: GazetteerSet
    temperature: float
    rejection: Rejection

    @property
    def decoder(self) -> SentenceDecoder: ...

    @property
    def parameters(self) -> int | None: ...
