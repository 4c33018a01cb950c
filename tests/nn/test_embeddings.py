import torch

from slotfill.config import ModelConfig
from slotfill.data.example import Example
from slotfill.features.gazetteer import GazetteerSet
from slotfill.features.vocab import UNK_ID, Vocab, letter_trigrams
from slotfill.nn.batching import encode
from slotfill.nn.embeddings import VECTOR_JOIN, WORD_INPUTS, word_input
from slotfill.nn.tagger import build_tagger, load_vectors

from ..helpers import decode

EXAMPLES = [Example(("fly", "to", "apple"), ("O", "O", "B-to"), "atis_flight")]


def test_letter_trigrams_are_the_word_hashing_of_the_notes() -> None:
    assert letter_trigrams("apple") == ["#ap", "app", "ppl", "ple", "le#"]
    assert letter_trigrams("a") == ["#a#"]


def batch_for(tokens: tuple[str, ...], vocab: Vocab):
    corpus = encode([tokens], vocab, GazetteerSet())
    return corpus.collate([corpus[0]])


def test_unseen_words_get_a_trigram_vector_but_one_hot_gives_them_the_other_entry() -> None:
    vocab = Vocab.build(EXAMPLES)
    batch = batch_for(("fly", "to", "applet"), vocab)  # "applet" is unseen
    assert batch.word_ids[0, 2].item() == UNK_ID
    torch.manual_seed(0)
    trigram = word_input("letter_trigram", len(vocab.words), len(vocab.trigrams), 8)
    vectors = trigram(batch.word_ids, batch.trigram_ids, batch.type_index, None)  # (1, 3, 8)
    unknown = batch_for(("zzzz",), vocab)
    assert not torch.allclose(
        vectors[0, 2], trigram(unknown.word_ids, unknown.trigram_ids, unknown.type_index, None)[0, 0]
    )
    one_hot = word_input("one_hot", len(vocab.words), len(vocab.trigrams), 8)
    codes = one_hot(batch.word_ids, batch.trigram_ids, batch.type_index, None)
    assert codes.shape == (1, 3, len(vocab.words)) and codes[0, 2, UNK_ID] == 1 and codes[0, 2].sum() == 1


def test_word_dropout_blanks_trigram_bags() -> None:
    vocab = Vocab.build(EXAMPLES)
    batch = batch_for(("fly", "to", "apple"), vocab)
    trigram = word_input("letter_trigram", len(vocab.words), len(vocab.trigrams), 8)
    dropped = torch.tensor([[False, True, False]])
    vectors = trigram(batch.word_ids, batch.trigram_ids, batch.type_index, dropped)
    assert (vectors[0, 1] == 0).all() and (vectors[0, 0] != 0).any()


def test_every_embedding_kind_combines_with_chars_in_a_tagger() -> None:
    vocab = Vocab.build(EXAMPLES)
    corpus = encode([e.tokens for e in EXAMPLES], vocab, GazetteerSet(), EXAMPLES)
    batch = corpus.collate([corpus[0]])
    for kind in ("learned", "one_hot", "letter_trigram"):
        for chars in (True, False):
            config = ModelConfig.model_validate(
                {"embedding": {"kind": kind, "dim": 6}, "chars": {"enabled": chars}, "encoder": {"hidden_size": 4}}
            )
            tagger = build_tagger(config, vocab, 0)
            tagger.loss(batch).backward()
            assert [len(t) for t in decode(tagger, batch).tag_ids] == [3]


def test_word_dropout_chars_makes_dropped_words_fully_unknown() -> None:
    vocab = Vocab.build(EXAMPLES)
    config = ModelConfig.model_validate(
        {
            "embedding": {"dim": 6, "word_dropout": 0.999, "word_dropout_chars": 1.0},
            "encoder": {"hidden_size": 4},
            "dropout": 0.0,
        }
    )
    tagger = build_tagger(config, vocab, 0).train()
    first, second = batch_for(("fly", "to", "apple"), vocab), batch_for(("fly", "to", "zebra"), vocab)
    torch.manual_seed(3)
    a = tagger._encode(first)[0]
    torch.manual_seed(3)
    b = tagger._encode(second)[0]
    assert torch.allclose(a, b)  # every word dropped with its characters: nothing tells them apart
    tagger.eval()
    assert not torch.allclose(tagger._encode(first)[0], tagger._encode(second)[0])


VECTOR_WORDS = ["fly", "paris", "apple"]  # "paris": only the vectors know it; "zebra": nobody does
VECTOR_TABLE = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def vector_model(join: str, dim: int = 2, **embedding: float) -> tuple[Vocab, object]:
    vocab = Vocab.build(EXAMPLES).with_vectors(VECTOR_WORDS, 2)
    config = ModelConfig.model_validate(
        {
            "embedding": {"dim": dim, "vectors": {"source": "unused.txt", "join": join}, **embedding},
            "chars": {"enabled": False},
            "encoder": {"hidden_size": 4},
        }
    )
    tagger = build_tagger(config, vocab, 0)
    load_vectors(tagger, vocab, VECTOR_TABLE.numpy())
    return vocab, tagger.eval()


def test_vectors_reach_the_words_only_they_know_and_unknown_words_stay_unknown() -> None:
    for join in ("concat", "project", "init"):
        vocab, tagger = vector_model(join)
        word_input = tagger.word_input
        batch = batch_for(("fly", "paris", "zebra", "to"), vocab)
        assert batch.word_ids[0].tolist()[1:3] == [UNK_ID, UNK_ID]  # neither is a training word
        out = word_input(batch.word_ids, batch.trigram_ids, batch.type_index, None, batch.vector_ids)[0]  # (L, E)
        unk = word_input.table.weight[UNK_ID]
        to = word_input.table.weight[vocab.words["to"]]
        if join == "concat":  # [learned, pretrained]
            assert torch.equal(out[1], torch.cat([unk, VECTOR_TABLE[1]]))
            assert torch.equal(out[2], torch.cat([unk, torch.zeros(2)]))
            assert torch.equal(out[3], torch.cat([to, torch.zeros(2)]))
        elif join == "project":  # learned + W pretrained
            projected = word_input.projection(VECTOR_TABLE[1])
            assert torch.allclose(out[1], unk + projected) and torch.equal(out[2], unk)
        else:  # init: training words start from their vectors; UNK words with a vector take it
            assert torch.equal(word_input.table.weight[vocab.words["fly"]], VECTOR_TABLE[0])
            assert torch.equal(out[0], VECTOR_TABLE[0]) and torch.equal(out[1], VECTOR_TABLE[1])
            assert torch.equal(out[2], unk) and torch.equal(out[3], to)


def test_a_dropped_word_keeps_its_vector_unless_it_is_blanked() -> None:
    vocab, tagger = vector_model("concat")
    batch = batch_for(("fly", "to"), vocab)
    dropped = torch.tensor([[True, False]])
    word_ids = batch.word_ids.masked_fill(dropped, UNK_ID)
    kept = tagger.word_input(word_ids, batch.trigram_ids, batch.type_index, dropped, batch.vector_ids)[0]
    assert torch.equal(kept[0, 2:], VECTOR_TABLE[0])  # the situation of a word only the vectors know
    blanked = tagger.word_input(word_ids, batch.trigram_ids, batch.type_index, dropped, batch.vector_ids, dropped)[0]
    assert torch.equal(blanked[0, 2:], torch.zeros(2))


def test_vectors_are_frozen_and_join_init_needs_their_width() -> None:
    vocab, tagger = vector_model("concat", word_dropout=0.5)
    corpus = encode([e.tokens for e in EXAMPLES], vocab, GazetteerSet(), EXAMPLES)
    tagger.train().loss(corpus.collate([corpus[0]])).backward()
    assert "word_input.vectors" not in dict(tagger.named_parameters())
    assert torch.equal(tagger.word_input.vectors[2:], VECTOR_TABLE)
    try:
        vector_model("init", dim=3)
    except ValueError as error:
        assert "the learned table's dim (3) must be the vectors' (2)" in str(error)
    else:
        raise AssertionError("join init accepted vectors of another width")


def test_the_word_input_tables_hold_every_choice_the_config_offers() -> None:
    from typing import get_args

    from slotfill.choices import EMBEDDING_KINDS, VECTOR_JOINS
    from slotfill.config import EmbeddingConfig, VectorsConfig

    assert (
        sorted(WORD_INPUTS)
        == sorted(EMBEDDING_KINDS)
        == sorted(get_args(EmbeddingConfig.model_fields["kind"].annotation))
    )
    assert (
        sorted(VECTOR_JOIN) == sorted(VECTOR_JOINS) == sorted(get_args(VectorsConfig.model_fields["join"].annotation))
    )
    for kind, built in WORD_INPUTS.items():
        assert built.kind == kind and word_input(kind, 5, 7, 4).kind == kind


def test_weights_named_as_04_named_them_are_read_under_the_current_names() -> None:
    from slotfill.nn.tagger import current_names

    saved = {
        "word_input.pretrained": 1, "pretrained.model.embeddings.word_embeddings.weight": 2,
        "module.pretrained.pooling": 3, "module.word_input.pretrained": 4, "encoder.rnn.weight_ih_l0": 5,
        "word_input.table.weight": 6, "n_averaged": 7, "char_encoder.conv.weight": 8,
    }  # fmt: skip
    assert current_names(saved) == {
        "word_input.vectors": 1, "transformer.model.embeddings.word_embeddings.weight": 2,
        "module.transformer.pooling": 3, "module.word_input.vectors": 4, "encoder.rnn.weight_ih_l0": 5,
        "word_input.table.weight": 6, "n_averaged": 7, "char_cnn.conv.weight": 8,
    }  # fmt: skip
    assert current_names(current_names(saved)) == current_names(saved)
