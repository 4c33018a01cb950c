"""Every script and every Unicode form: a letter keeps its combining marks (NFD text is tokenised
as its NFC form is, offsets into the text as sent), words are one script each, Thai, Lao, Khmer
and Myanmar are one token per grapheme cluster, the punctuation of every script is punctuation,
and a model keeps the tokenisation rules it was trained with."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotfill.errors import ModelError
from slotfill.features.vocab import Vocab
from slotfill.text.tokenise import is_punctuation, token_texts, tokenise

ROOT = Path(__file__).resolve().parents[2]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# the probe: accented cities typed with combining marks were cut at the mark
CITIES = ["Reykjavík", "Gdańsk", "Ålesund", "Göteborg", "Zürich", "Hà Nội", "Ōsaka", "São Paulo", "Kraków", "Malmö", "Besançon", "Córdoba"]  # fmt: skip


@pytest.mark.parametrize("city", CITIES)
def test_a_city_typed_in_nfd_is_the_same_tokens_as_in_nfc(city: str) -> None:
    composed, decomposed = f"fly from boston to {city} tomorrow", nfd(f"fly from boston to {city} tomorrow")
    assert decomposed != composed
    nfc_tokens, nfd_tokens = tokenise(composed), tokenise(decomposed)
    assert [unicodedata.normalize("NFC", t.text) for t in nfd_tokens] == [t.text for t in nfc_tokens]
    assert [t.norm for t in nfd_tokens] == [t.norm for t in nfc_tokens]  # what the model sees: the same
    assert all(decomposed[t.start : t.end] == t.text for t in nfd_tokens)  # offsets into the text as sent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("दिल्ली जाना है", ["दिल्ली", "जाना", "है"]),  # Devanagari vowel signs and virama stay in their word
        (nfd("दिल्ली"), [nfd("दिल्ली")]),
        ("مرحبًا بِكُم", ["مرحبًا", "بِكُم"]),  # harakat
        (nfd("Hà Nội"), [nfd("Hà"), nfd("Nội")]),  # Vietnamese tones typed as marks
        (nfd("한국어"), [nfd("한국어")]),  # Korean as conjoining jamo
        (nfd("がっこう"), [nfd("が"), "っ", "こ", "う"]),  # a kana with its dakuten typed as a mark
        ("東京へ", ["東", "京", "へ"]),
        ("ตั้งนาฬิกา", ["ตั้", "ง", "น", "า", "ฬิ", "ก", "า"]),  # Thai: grapheme clusters
        ("ຕັ້ງໂມງ", ["ຕັ້", "ງ", "ໂ", "ມ", "ງ"]),  # Lao
        ("bangkokกรุงเทพ 7 โมง", ["bangkok", "ก", "รุ", "ง", "เ", "ท", "พ", "7", "โ", "ม", "ง"]),  # by script
        ("abcабв Αθήνα", ["abc", "абв", "Αθήνα"]),
        ("\u0301lone", ["\u0301", "lone"]),  # a mark with no letter before it is a character of its own
    ],
)
def test_words_keep_their_marks_and_their_script(text: str, expected: list[str]) -> None:
    assert token_texts(text) == expected


@pytest.mark.parametrize("mark", ["。", "、", "،", "؟", "।", "¿", "¡", "«", "»", "„", "“", "⸮", "፧", "꓿"])
def test_the_punctuation_of_every_script_is_punctuation(mark: str) -> None:
    assert is_punctuation(mark)
    assert mark in token_texts(f"a{mark}b") or token_texts(f"a{mark}b") == ["a", mark, "b"]


ASCII = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=60)


@settings(max_examples=300)
@given(ASCII)
def test_ascii_is_tokenised_by_re_as_by_the_unicode_rules(text: str) -> None:
    """What lets ASCII text take `re`'s pattern, and models written under rules 1 tag ASCII as before."""
    import regex

    from slotfill.text import tokenise as module

    assert token_texts(text, rules=2) == token_texts(text, rules=1)
    for rules in (2, 3, 4):
        unicode_rules = regex.compile(module._RULES[rules][1], regex.VERBOSE | regex.VERSION0)
        assert unicode_rules.findall(text) == token_texts(text, rules=rules)


WORDS = st.sampled_from(
    [
        "Reykjavík",
        "Gdańsk",
        "Zürich",
        "Hà",
        "Nội",
        "दिल्ली",
        "ตั้งนาฬิกา",
        "が",
        "東京",
        "한국어",
        "مرحبًا",
        "i'd",
        "8:30",
        "São",
        "Ōsaka",
        "¿",
        "crème",
        "brûlée",
        "Đà",
        "Nẵng",
        "ǅ",
        "ﬁ",
        "Å",
        "ñ",
        "Ǻ",
    ]  # fmt: skip
)
SEPARATORS = st.sampled_from([" ", "  ", ", ", "\t", " - ", "!", ""])


@settings(max_examples=300)
@given(st.lists(st.tuples(WORDS, SEPARATORS, st.booleans()), min_size=1, max_size=12))
def test_mixed_nfc_and_nfd_text_gives_exact_offsets_and_the_nfc_tokens(pieces: list[tuple[str, str, bool]]) -> None:
    sent = "".join((nfd(word) if decompose else word) + gap for word, gap, decompose in pieces)
    composed = unicodedata.normalize("NFC", sent)
    tokens = tokenise(sent)
    assert all(sent[t.start : t.end] == t.text for t in tokens)
    assert [t.norm for t in tokens] == [t.norm for t in tokenise(composed)]
    assert [unicodedata.normalize("NFC", t.text) for t in tokens] == [t.text for t in tokenise(composed)]


def test_a_vocabulary_records_its_rules_and_one_without_them_is_rules_1(tmp_path: Path) -> None:
    fixture = json.loads((ROOT / "tests" / "fixtures" / "model_v2" / "vocab.json").read_text(encoding="utf-8"))
    assert "tokenisation" not in fixture and Vocab.from_json(fixture).tokenisation == 1
    assert Vocab.from_json({**fixture, "tokenisation": 2}).to_json()["tokenisation"] == 2
    with pytest.raises(
        ModelError, match=r"^v\.json: tokenisation 5: written by a newer slotfill .* rules 1, 2, 3, 4\)"
    ):
        Vocab.from_json({**fixture, "tokenisation": 5}, "v.json")


def test_a_model_written_before_keeps_its_rules_and_a_new_one_has_the_new(trained_run: Path) -> None:
    from slotfill.predict import Predictor

    text = nfd("fly from boston to Reykjavík tomorrow")
    old = Predictor.load(ROOT / "tests" / "fixtures" / "model_v2", "cpu").parse(text, values=False)
    assert "Reykjavi" in old["tokens"]  # rules 1, as it was trained: cut at the mark, never silently changed
    new = Predictor.load(trained_run, "cpu").parse(text, values=False)
    assert nfd("Reykjavík") in new["tokens"]
    assert all(text[s["start"] : s["end"]] == s["text"] for s in new["slots"])


def test_a_model_of_rules_2_keeps_its_commas_and_a_new_one_splits_lists(trained_run: Path) -> None:
    from dataclasses import replace

    from slotfill.predict import Predictor

    text = "wake me at 5:00,5:10 and 1,000 times"
    old = Predictor.load(trained_run, "cpu")
    old.loaded.vocab = replace(old.loaded.vocab, tokenisation=2)  # as a vocab.json of rules 2 reads
    new = Predictor.load(trained_run, "cpu")
    assert old.parse(text, values=False)["tokens"] == ["wake", "me", "at", "5:00,5:10", "and", "1,000", "times"]
    assert new.parse(text, values=False)["tokens"] == ["wake", "me", "at", "5:00", ",", "5:10", "and", "1,000", "times"]


def test_nfd_and_nfc_input_give_the_same_slots(trained_run: Path) -> None:
    from slotfill.predict import Predictor

    predictor = Predictor.load(trained_run, "cpu")
    lines = (ROOT / "data" / "demo" / "test" / "seq.in").read_text(encoding="utf-8").splitlines()
    texts = [f"{line} to {city}" for line, city in zip(lines, CITIES * len(lines))]
    composed = list(predictor.parse_many(texts, values=False))
    decomposed = list(predictor.parse_many([nfd(t) for t in texts], values=False))

    def slots(parsed: dict) -> list[tuple[str, str, float]]:
        return [(s["slot"], unicodedata.normalize("NFC", s["text"]), s["confidence"]) for s in parsed["slots"]]

    assert [slots(p) for p in decomposed] == [slots(p) for p in composed]
    assert [p["intent_confidence"] for p in decomposed] == [p["intent_confidence"] for p in composed]


def test_text_in_a_script_the_model_never_saw_tags_without_error(trained_run: Path) -> None:
    from slotfill.predict import Predictor

    predictor = Predictor.load(trained_run, "cpu")
    for text in ["ตั้งนาฬิกาปลุก 7 โมงเช้า", "مرحبًا بِكُم", "फ्लाइट दिल्ली", "ᏣᎳᎩ", "𓀀𓀁"]:
        parsed = predictor.parse(text, values=False)
        assert len(parsed["tags"]) == len(parsed["tokens"]) > 0
        assert all(text[s["start"] : s["end"]] == s["text"] for s in parsed["slots"])


def test_a_new_model_records_the_rules_it_was_trained_with(trained_run: Path) -> None:
    assert json.loads((trained_run / "model" / "vocab.json").read_text(encoding="utf-8"))["tokenisation"] == 4
