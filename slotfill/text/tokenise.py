"""Tokenise raw utterances the way ATIS is tokenised, keeping character offsets.

ATIS conventions: lowercase; contractions and "o'clock" stay one token ("i'd", "what's");
the abbreviations "st." (saint), "mt.", "ft." ... keep their period; "?", ",", "!" and other
punctuation are tokens of their own; dotted abbreviations such as "a.m." stay whole, and so do
numbers, times, dates and percentages ("8:30", "1,000", "11/2", "25%"), but a comma joins digits
only in thousands groups: "5:00,5:10" and "3,4" are lists, split at the comma (rules 3).
Every CJK ideograph, kana or CJK punctuation mark is a token of its own; full-width letters and
digits ("ｂｏｓｔｏｎ") make words like their ASCII forms. Invisible format characters (bidi marks,
zero-width spaces, a BOM inside the text) are never tokens, and an emoji keeps its modifiers.

What the model sees of a token is its `norm`: lowercased, typographic apostrophes made plain and
accents folded on Latin letters ("Reykjavík" -> "reykjavik"), so that the way a person types a
word does not change its slot. Tokens made only of punctuation (`is_punctuation`) keep their offsets
in the output but are never shown to the model: they cannot become slots, and adding or removing
them cannot change the slots of the other tokens.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from typing import Any, NamedTuple

_CJK = (
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3001-\u303f"  # CJK symbols and punctuation (not U+3000, the ideographic space: a space)
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uffef"  # half- and full-width forms but letters and digits
    "\U00020000-\U0002fa1f"  # CJK extensions B-F
)
_ABBREVIATIONS = ("st", "mt", "ft", "dr", "mr", "mrs", "ms", "jr", "sr", "ave", "blvd")
# characters that are never a token: invisible format controls (bidi marks, zero-width spaces, a BOM
# inside the text, the soft hyphen); they stay in the text and its offsets, between tokens
_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
# what extends the symbol before it into one token: emoji modifiers (skin tones), variation selectors,
# the keycap mark, tag characters, and a zero-width joiner with the symbol after it
_SYMBOL_EXTENSION = "(?:[\U0001f3fb-\U0001f3ff\ufe00-\ufe0f\u20e3\U000e0020-\U000e007f]|\u200d[^\\s])"
_APOSTROPHES = "'\u2019\u2018\u02bc"  # plain, right and left single quotation marks, modifier letter apostrophe

# what joins digits into one number token. Rules 1 and 2: any of ":" "." "," "/" between digits
# ("8:30" "3.5" "1,000" "11/2" "2.5%"), which kept lists whole ("5:00,5:10" "2,3,4" "3,4" one token).
# Rules 3: a comma joins only thousands groups ("1,000" "12,500,000", with a decimal part "1,000.50");
# times, list items and scores split at it ("5:00" "," "5:10").
_NUMBER_RULES_1 = r"\d+(?:[:.,/]\d+)+%?"
_NUMBER_RULES_3 = r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?%? | \d+(?:[:./]\d+)+%?"


def _ascii_rules(numbers: str, controls: bool = False) -> str:
    """Rules 1 (models written before marks and grapheme clusters: vocab.json without "tokenisation"),
    and every later rules' ASCII fast path, with `numbers` as the number rule; with `controls` (rules
    4), no token of an ASCII control character (U+0000 ...)."""
    invisible = _INVISIBLE + ("\x00-\x1f\x7f" if controls else "")
    return rf"""
    [{_CJK}]                                          # one CJK character
    | (?:(?i:{"|".join(_ABBREVIATIONS)})\.)(?![^\W_])  # st. mt. (not 'st.louis')
    | (?:[^\W\d_{_CJK}]\.){{2,}}                      # a.m. u.s. d.c.
    | {numbers}                                        # 8:30 3.5 1,000 11/2 2.5%
    | \d+%                                             # 25%
    | [^\W_{_CJK}]+(?:[{_APOSTROPHES}][^\W_{_CJK}]+)*  # words, i'd, o'clock, 2nd
    | [^\s{invisible}]{_SYMBOL_EXTENSION}*            # any other visible character (an emoji with its modifiers)
    """


# rules 2: a letter and the combining marks after it (Unicode M*: accents typed as marks, Indic
# vowel signs, Thai tones, harakat) are one unit of a word, and a word is one script (so
# "bangkokกรุงเทพ" is two); Thai, Lao, Khmer and Myanmar, written without spaces, are one token per
# grapheme cluster (the way CJK characters are one token each), so every annotated span of them falls
# on token boundaries. `regex` (Apache-2.0) has the Unicode properties and \X that `re` lacks.
_WORD_SCRIPTS = (
    "Latin", "Greek", "Cyrillic", "Armenian", "Hebrew", "Arabic", "Syriac", "Thaana", "Devanagari", "Bengali",
    "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala", "Tibetan", "Georgian",
    "Hangul", "Ethiopic", "Cherokee", "Mongolian",
)  # fmt: skip
NO_SPACE_SCRIPTS = ("Thai", "Lao", "Khmer", "Myanmar")
_NO_SPACE = "".join(rf"\p{{{script}}}" for script in NO_SPACE_SCRIPTS)
_JOIN = rf"(?:[{_APOSTROPHES}](?=\w))"  # i'd, o'clock: an apostrophe between two pieces of a word
# rules 4: what else joins two pieces of one word: the zero-width non-joiner of ordinary Persian and
# Indic words ("می‌خواهم"), the zero-width joiner, the word joiner and the soft hyphen ("kit\u200dchen")
_JOINERS = "\u200c\u200d\u2060\u00ad\u180e"  # (U+180E: the Mongolian vowel separator)
_JOIN_4 = rf"(?:[{_APOSTROPHES}](?=\w)|[{_JOINERS}]+(?=[^\W_]))"
# rules 4: never the first character of a token, so that none is made of them alone: format characters
# (\p{Cf}: joiners, bidi marks, tag characters, U+180E), controls (\p{Cc}: U+0000) and variation selectors
_NEVER_FIRST_4 = "\\p{Cf}\\p{Cc}\ufe00-\ufe0f\U000e0100-\U000e01ef"


def _script_word(letters: str, join: str = _JOIN) -> str:
    """A run of `letters` (and digits), each with its combining marks, `join` between pieces."""
    no_format = r"(?!\p{Cf})" if join == _JOIN_4 else ""  # rules 4: U+180E is Mongolian, but no letter
    unit = rf"{no_format}[{letters}\p{{N}}]\p{{M}}*"
    return rf"(?:{unit})+(?:{join}(?:{unit})+)*"


def _words(join: str) -> tuple[str, str]:
    """A word of one script, and a word of any other script, with `join` between pieces."""
    scripts = "|".join(_script_word(rf"\p{{{script}}}", join) for script in _WORD_SCRIPTS)
    # (regex's \w has the marks, not letters, and from rules 4 the joiners and other format characters)
    formats = r"\p{Cf}" if join == _JOIN_4 else ""
    other = _script_word(rf"^\W_\p{{M}}{formats}{_CJK}{_NO_SPACE}", join)
    return scripts, other


def _unicode_rules(numbers: str, rules: int) -> str:
    """Rules 2 and later (compiled with `regex`), with `numbers` as the number rule; from rules 4,
    joiners inside a word and no token of format characters alone."""
    script_words, other_word = _words(_JOIN_4 if rules >= 4 else _JOIN)
    never_first = f"{_INVISIBLE}{_NEVER_FIRST_4}" if rules >= 4 else _INVISIBLE
    return rf"""
    [{_CJK}]\p{{M}}*                                    # one CJK character (a kana's dakuten typed as a mark too)
    | (?=[{_NO_SPACE}])\X                              # one Thai, Lao, Khmer or Myanmar grapheme cluster
    | (?:(?i:{"|".join(_ABBREVIATIONS)})\.)(?![^\W_])  # st. mt. (not 'st.louis')
    | (?:[^\W\d_\p{{M}}{_CJK}{_NO_SPACE}]\p{{M}}*\.){{2,}}  # a.m. u.s. d.c.
    | {numbers}                                        # 8:30 3.5 1,000 11/2 2.5%
    | \d+%                                             # 25%
    | {script_words}                                   # a word of one script
    | {other_word}                                     # a word of any other script
    | [^\s\x1c-\x1f{never_first}]\p{{M}}*{_SYMBOL_EXTENSION}*  # any other visible character (an emoji with its modifiers);
    """  # (\x1c-\x1f are spaces to `re` and str.isspace, not to `regex`)


TOKENISATION = 4  # the rules new models are trained and tag with (vocab.json records them)
# every rules this slotfill knows: (the `re` rules for ASCII text, the `regex` rules for any other)
_RULES = {
    1: (_ascii_rules(_NUMBER_RULES_1), _ascii_rules(_NUMBER_RULES_1)),
    2: (_ascii_rules(_NUMBER_RULES_1), _unicode_rules(_NUMBER_RULES_1, 2)),
    3: (_ascii_rules(_NUMBER_RULES_3), _unicode_rules(_NUMBER_RULES_3, 3)),
    # 4: joiners inside a word stay in it, and no token is made of format or control characters alone
    4: (_ascii_rules(_NUMBER_RULES_3, controls=True), _unicode_rules(_NUMBER_RULES_3, 4)),
}
KNOWN_TOKENISATIONS = tuple(_RULES)
_PATTERNS: dict[tuple[int, bool], Any] = {}


def _pattern(rules: int, text: str = "") -> Any:
    """The compiled rules for `text`, each compiled on first use (importing `regex` costs 20 ms).
    ASCII text has no marks, no script but Latin and no cluster of more than one character, so every
    rules split it as their `re` pattern does, the faster one (a test holds the equality)."""
    key = (rules, text.isascii())
    found = _PATTERNS.get(key)
    if found is None:
        if rules not in _RULES:
            known = ", ".join(map(str, KNOWN_TOKENISATIONS))
            raise ValueError(f"tokenisation rules {rules!r}: this slotfill knows {known}")
        ascii_rules, unicode_rules = _RULES[rules]
        if key[1] or rules == 1:
            found = re.compile(ascii_rules, re.VERBOSE)
        else:
            import regex

            found = regex.compile(unicode_rules, regex.VERBOSE | regex.VERSION0)
        _PATTERNS[key] = found
    return found


_PLAIN_APOSTROPHE = str.maketrans({quote: "'" for quote in _APOSTROPHES[1:]})
_LATIN_END = 0x0250  # Basic Latin up to Latin Extended-B: the letters whose accents are folded


class Token(NamedTuple):
    """A token of the user's text: `text[start:end] == token.text`; `norm` is what the model sees."""

    text: str
    start: int
    end: int
    norm: str


_new_token = tuple.__new__


def _fold_latin_accents(word: str) -> str:
    """Drop combining marks that sit on a Latin letter ("í" -> "i"); other scripts keep theirs
    (a Japanese dakuten or a Devanagari vowel sign is part of the letter, not an accent)."""
    decomposed = unicodedata.normalize("NFKD", word)
    kept, base = [], ""
    for character in decomposed:
        if unicodedata.combining(character) and base and (ord(base) < _LATIN_END or 0x1E00 <= ord(base) <= 0x1EFF):
            continue
        kept.append(character)
        if not unicodedata.combining(character):
            base = character
    folded = unicodedata.normalize("NFC", "".join(kept))
    # a compatibility character can decompose to a space and a mark ("\u00b4"): keep such a word as it was
    introduced_space = any(c.isspace() for c in folded) and not any(c.isspace() for c in word)
    return word if not folded or introduced_space else folded


# normalise and is_punctuation are pure functions of a word, and the words of a language repeat:
# cached, tagging pays for each distinct word once (a bounded cache: a stream of ever-new words
# cannot grow it)
WORD_CACHE_SIZE = 1 << 16


@functools.lru_cache(maxsize=WORD_CACHE_SIZE)
def normalise(word: str) -> str:
    """The form the model sees: lowercase, plain apostrophes, accents folded on Latin letters."""
    word = word.lower()
    if word.isascii():
        return word
    return _fold_latin_accents(word.translate(_PLAIN_APOSTROPHE))


@functools.lru_cache(maxsize=WORD_CACHE_SIZE)
def is_punctuation(token: str) -> bool:
    """True for a token made only of punctuation (Unicode categories P*: . , ? ! - ' " ( ) % & / ...)."""
    return bool(token) and all(unicodedata.category(character)[0] == "P" for character in token)


ASCII_PUNCTUATION = "".join(
    c for c in map(chr, range(128)) if unicodedata.category(c)[0] == "P"
)  # is_punctuation's ASCII


def token_texts(text: str, rules: int = TOKENISATION) -> list[str]:
    """The texts of `tokenise(text)`'s tokens, without offsets or norms (a faster path to the same spans)."""
    return _pattern(rules, text).findall(text)


def count_tokens(text: str, limit: int | None = None, rules: int = TOKENISATION) -> int:
    """How many tokens `tokenise(text)` makes (at most `limit`), without building them."""
    return sum(1 for _ in itertools.islice(_pattern(rules, text).finditer(text), limit))


def tokenise(text: str, limit: int | None = None, rules: int = TOKENISATION) -> list[Token]:
    """Split raw text into tokens with character offsets into `text`; with `limit`, at most that
    many (the rest of the text is not even scanned). `rules`: 3 (the current ones), 2 (those of models
    whose commas joined any digits: "5:00,5:10" one token) or 1 (those of models written before marks
    and grapheme clusters): vocab.json says which a model uses."""
    matches = itertools.islice(_pattern(rules, text).finditer(text), limit)
    # tuple.__new__ is what Token(...) calls, without the Python frame of its generated __new__
    return [_new_token(Token, (m.group(), m.start(), m.end(), normalise(m.group()))) for m in matches]
