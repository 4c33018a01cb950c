"""Tokenise raw utterances the way ATIS is tokenised, keeping character offsets.

ATIS conventions: lowercase; contractions and "o'clock" stay one token ("i'd", "what's");
the abbreviations "st." (saint), "mt.", "ft." ... keep their period; "?", ",", "!" and other
punctuation are tokens of their own; dotted abbreviations such as "a.m." stay whole.
Every CJK ideograph, kana or CJK punctuation mark is a token of its own.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_CJK = (
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3000-\u303f"  # CJK symbols and punctuation
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff00-\uffef"  # half- and full-width forms
    "\U00020000-\U0002fa1f"  # CJK extensions B-F
)
_ABBREVIATIONS = ("st", "mt", "ft", "dr", "mr", "mrs", "ms", "jr", "sr", "ave", "blvd")
_APOSTROPHES = "'\u2019"

_TOKEN_RE = re.compile(
    rf"""
    [{_CJK}]                                          # one CJK character
    | (?:(?i:{"|".join(_ABBREVIATIONS)})\.)(?![^\W_])  # st. mt. (not 'st.louis')
    | (?:[^\W\d_{_CJK}]\.){{2,}}                      # a.m. u.s. d.c.
    | \d+(?:[:.,]\d+)+                                 # 8:30 3.5 1,000
    | [^\W_{_CJK}]+(?:[{_APOSTROPHES}][^\W_{_CJK}]+)*  # words, i'd, o'clock, 2nd
    | \S                                               # any other visible character
    """,
    re.VERBOSE,
)


class Token(NamedTuple):
    """A token of the user's text: `text[start:end] == token.text`; `norm` is what the model sees."""

    text: str
    start: int
    end: int
    norm: str


def normalise(word: str) -> str:
    """The ATIS form of a word: lowercase, typographic apostrophe made plain."""
    word = word.lower()
    return word.replace("\u2019", "'") if "\u2019" in word else word


def tokenise(text: str) -> list[Token]:
    """Split raw text into tokens with character offsets into `text`."""
    spans = [match.span() for match in _TOKEN_RE.finditer(text)]
    lowered = normalise(text)
    if len(lowered) != len(text):  # a character whose lowercase is longer ("İ"): word by word
        return [Token(text[a:b], a, b, normalise(text[a:b])) for a, b in spans]
    return [Token(text[a:b], a, b, lowered[a:b]) for a, b in spans]
