import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfill.text.tokenise import KNOWN_TOKENISATIONS, is_punctuation, normalise, token_texts, tokenise


def norms(text: str) -> list[str]:
    return [t.norm for t in tokenise(text)]


def test_atis_conventions() -> None:
    assert norms("Arrive Taipei on November 2nd") == ["arrive", "taipei", "on", "november", "2nd"]
    assert norms("I'd like St. Louis at 8 o'clock, OK?") == [
        "i'd",
        "like",
        "st.",
        "louis",
        "at",
        "8",
        "o'clock",
        ",",
        "ok",
        "?",
    ]
    assert norms("what's the fare!") == ["what's", "the", "fare", "!"]
    assert norms("leave at 8:30 a.m. please") == ["leave", "at", "8:30", "a.m.", "please"]


def test_typographic_apostrophe_is_normalised_but_text_is_kept() -> None:
    (token,) = tokenise("I\u2019d")
    assert token.text == "I\u2019d" and token.norm == "i'd"


def test_cjk_characters_are_one_token_each() -> None:
    assert norms("我想去台北 tomorrow") == ["我", "想", "去", "台", "北", "tomorrow"]


def test_offsets_point_into_the_original_text() -> None:
    text = "  Fly to  NEW York,  tomorrow?!"
    tokens = tokenise(text)
    assert [t.text for t in tokens] == ["Fly", "to", "NEW", "York", ",", "tomorrow", "?", "!"]
    for token in tokens:
        assert text[token.start : token.end] == token.text


def test_empty_and_whitespace_give_no_tokens() -> None:
    assert tokenise("") == [] and tokenise(" \t\n ") == []


@given(st.text())
def test_offsets_always_slice_back_to_the_token(text: str) -> None:
    previous_end = 0
    for token in tokenise(text):
        assert text[token.start : token.end] == token.text
        assert token.start >= previous_end and token.end > token.start
        assert not token.text.isspace()
        previous_end = token.end


def test_lowercase_that_changes_length_keeps_offsets() -> None:
    text = "İstanbul to PARIS"
    tokens = tokenise(text)
    assert [t.text for t in tokens] == ["İstanbul", "to", "PARIS"]
    assert tokens[0].norm == "istanbul" and tokens[2].norm == "paris"  # dotted capital I: lowercased, dot folded
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_the_way_a_word_is_typed_does_not_change_what_the_model_sees() -> None:
    assert normalise("Reykjavík") == normalise("REYKJAVIK") == "reykjavik"
    assert normalise("São") == "sao" and normalise("Zürich") == "zurich" and normalise("Ｔａｉｐｅｉ") == "taipei"
    assert normalise("I’d") == normalise("I‘d") == normalise("Iʼd") == "i'd"


def test_accents_of_other_scripts_are_part_of_the_letter() -> None:
    assert normalise("が") == "が"  # a Japanese dakuten is not an accent
    assert normalise("नमस्ते") == "नमस्ते"
    assert normalise("\u00b4") == "\u00b4"  # a compatibility character that decomposes to a space and a mark


def test_times_dates_and_percentages_stay_whole() -> None:
    assert norms("at 8:30 on 11/2 for 25% or 2.5% off") == [
        "at",
        "8:30",
        "on",
        "11/2",
        "for",
        "25%",
        "or",
        "2.5%",
        "off",
    ]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("1,000", ["1,000"]),
        ("12,500,000 people", ["12,500,000", "people"]),
        ("$1,000.50 or 1,000%", ["$", "1,000.50", "or", "1,000%"]),
        ("at 5:00,5:10, and 5:20", ["at", "5:00", ",", "5:10", ",", "and", "5:20"]),
        ("rows 2,3,4", ["rows", "2", ",", "3", ",", "4"]),
        ("it ended 3,4", ["it", "ended", "3", ",", "4"]),
        ("1,0000 and 1234,567", ["1", ",", "0000", "and", "1234", ",", "567"]),
        ("1,000,5", ["1,000", ",", "5"]),
        ("3.5,4.5", ["3.5", ",", "4.5"]),
        ("٣,٤ and ١,٠٠٠", ["٣", ",", "٤", "and", "١,٠٠٠"]),  # Arabic-Indic digits: the same rule
    ],
)
def test_a_comma_joins_digits_only_in_thousands_groups(text: str, tokens: list[str]) -> None:
    assert token_texts(text) == tokens == [t.text for t in tokenise(text)]


def test_models_of_the_old_rules_keep_their_commas() -> None:
    for rules in (1, 2):
        assert token_texts("at 5:00,5:10 for 2,3,4 or 1,000", rules=rules) == [
            "at",
            "5:00,5:10",
            "for",
            "2,3,4",
            "or",
            "1,000",
        ]


NUMBERS = st.lists(
    st.one_of(st.integers(0, 10**9).map(str), st.integers(0, 10**9).map("{:,}".format), st.sampled_from(",:./% ")),
    max_size=12,
)


@given(NUMBERS, st.sampled_from(KNOWN_TOKENISATIONS))
def test_numbers_and_commas_keep_exact_offsets_under_every_rules(pieces: list[str], rules: int) -> None:
    text = "".join(pieces)
    tokens = tokenise(text, rules=rules)
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert [t.text for t in tokens] == token_texts(text, rules=rules)
    assert "".join(t.text for t in tokens) == text.replace(" ", "")  # nothing dropped, nothing doubled


def test_thousands_groups_are_one_token_and_lists_split() -> None:
    for number in (0, 7, 999, 1000, 12_500_000, 1_234_567_890):
        assert token_texts(f"{number:,}") == [f"{number:,}"]
    assert token_texts(",".join(["5:00", "5:10", "5:20"])) == ["5:00", ",", "5:10", ",", "5:20"]


def test_punctuation_tokens_are_recognised() -> None:
    tokens = [t.text for t in tokenise("“Fly” to St. Louis (MO), at 8:30 a.m. — ok?!")]
    assert [t for t in tokens if is_punctuation(t)] == ["“", "”", "(", ")", ",", "—", "?", "!"]
    assert not any(is_punctuation(t) for t in ("st.", "a.m.", "8:30", "i'd", "25%", "$", "+", "😀"))


@pytest.mark.parametrize(
    "text,tokens",
    [
        ("\u3000", []),  # the ideographic space is a space
        ("\u200f\u200e\u200b", []),  # bidi marks and a zero-width space are invisible
        ("fly\ufeff to boston", ["fly", "to", "boston"]),  # a BOM inside the text is not a token
        ("ｂｏｓｔｏｎ on the ２nd", ["ｂｏｓｔｏｎ", "on", "the", "２nd"]),  # full-width letters make one word
        ("hi 👍🏽 boston", ["hi", "👍🏽", "boston"]),  # a skin tone stays on its emoji
        ("👨\u200d👩\u200d👧 to rome", ["👨\u200d👩\u200d👧", "to", "rome"]),  # a ZWJ sequence is one symbol
        # joiners inside a word stay inside its token (rules 4): ZWJ, ZWNJ in ordinary Persian, soft hyphen
        ("kit\u200dchen lights", ["kit\u200dchen", "lights"]),
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 x",
            ["\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "x"],
        ),
        ("soft\u00adware", ["soft\u00adware"]),
        ("\u182e\u1823\u1829\u182d\u1823\u182f\u180e\u1820", ["\u182e\u1823\u1829\u182d\u1823\u182f\u180e\u1820"]),
        # no token of format or control characters alone: a lone variation selector, U+180E, a tag, NUL
        ("a \ufe0f b \u180e c \U000e0041 d \x00 e", ["a", "b", "c", "d", "e"]),
        ("go\u200d \u200dhome a\x00b", ["go", "home", "a", "b"]),
    ],
)
def test_invisible_characters_full_width_letters_and_emoji(text: str, tokens: list[str]) -> None:
    found = tokenise(text)
    assert [t.text for t in found] == tokens
    assert all(text[t.start : t.end] == t.text for t in found)


def test_full_width_letters_are_seen_as_their_plain_forms() -> None:
    assert [t.norm for t in tokenise("ｂｏｓｔｏｎ ２nd")] == ["boston", "2nd"]
