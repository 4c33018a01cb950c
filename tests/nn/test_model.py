import torch

from slotfill.config import ModelConfig
from slotfill.data.example import Example
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import Vocab
from slotfill.nn.batching import encode
from slotfill.nn.tagger import build_tagger

from ..helpers import decode

EXAMPLES = [
    Example(("fly", "to", "boston", "tomorrow"), ("O", "O", "B-to", "B-date"), "atis_flight"),
    Example(("leave", "new", "york"), ("O", "B-from", "I-from"), "atis_flight"),
    Example(("fares",), ("O",), "atis_airfare"),
]


def batch_and_vocab():
    vocab = Vocab.build(EXAMPLES)
    corpus = encode([e.tokens for e in EXAMPLES], vocab, GazetteerSet(), EXAMPLES)
    return corpus.collate([corpus[i] for i in range(len(corpus))]), vocab


def test_batch_shapes() -> None:
    batch, vocab = batch_and_vocab()
    assert batch.word_ids.shape == (3, 4) and batch.lengths.tolist() == [4, 3, 1]
    assert batch.mask.sum().item() == 8
    distinct_words = len({w for e in EXAMPLES for w in e.tokens})
    assert batch.char_ids.shape[0] == distinct_words + 1  # + the padding word
    assert batch.tag_ids is not None and batch.tag_ids.shape == (3, 4)
    assert batch.intent_ids is not None and batch.intent_ids.tolist() == [1, 1, 0]


def test_tagger_shapes_and_decoding_lengths() -> None:
    batch, vocab = batch_and_vocab()
    for decoder in ("crf", "softmax"):
        config = ModelConfig.model_validate(
            {"decoder": decoder, "encoder": {"hidden_size": 8}, "embedding": {"dim": 6}}
        )
        tagger = build_tagger(config, vocab, 0)
        emissions, intent_logits, _ = tagger._encode(batch)
        assert emissions.shape == (3, 4, len(vocab.tags)) and intent_logits.shape == (3, len(vocab.intents))
        loss = tagger.loss(batch)
        assert loss.ndim == 0 and torch.isfinite(loss)
        loss.backward()
        decoded = decode(tagger, batch)
        assert [len(t) for t in decoded.tag_ids] == [4, 3, 1]
        assert decoded.intent_confidences is not None and all(0 < c <= 1 for c in decoded.intent_confidences)


def test_padding_does_not_change_predictions() -> None:
    batch, vocab = batch_and_vocab()
    torch.manual_seed(0)
    tagger = build_tagger(ModelConfig(), vocab, 0).eval()
    together = decode(tagger, batch)
    corpus = encode([e.tokens for e in EXAMPLES], vocab, GazetteerSet())
    for i in range(len(EXAMPLES)):
        alone = decode(tagger, corpus.collate([corpus[i]]))
        assert alone.tag_ids[0] == together.tag_ids[i]
        assert abs(alone.intent_confidences[0] - together.intent_confidences[i]) < 1e-5


def test_without_chars_or_intents() -> None:
    batch, vocab = batch_and_vocab()
    config = ModelConfig.model_validate({"chars": {"enabled": False}, "intent": {"enabled": False}})
    tagger = build_tagger(config, vocab, 0)
    assert tagger.char_cnn is None and tagger.intent_head is None
    assert decode(tagger, batch).intent_ids is None
