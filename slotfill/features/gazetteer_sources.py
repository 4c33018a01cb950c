"""Where a model's gazetteers come from at training time, and how they are kept in a model directory.

A config's `gazetteers:` section names each list and its sources, which are merged:
- `builtin`: a list derived from `airportsdata` (MIT, updated monthly; every airport with an
  IATA code): `city` (the cities those airports serve), `airport` (airport names with the
  aliases people say: "General Mitchell International Airport", "General Mitchell
  International", "General Mitchell"; "Chicago O'Hare", "O'Hare"; "Denver Airport"),
  `airport_code` (IATA codes) and `state` (US states and Canadian provinces);
- `file`: a UTF-8 file, one value a line, `#` comments, `|` between a value and its aliases;
- `slots`: the values that the training data tags with these slot types (`city_name` takes
  `fromloc.city_name`, `toloc.city_name`, ...), which are also the slots that value
  substitution (`training.substitution`) fills from this list.

The merged lists are written into the model directory (`gazetteers/NAME.txt` plus
`gazetteers/index.json` with their checksums), so a model never reads its sources again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from slotfill.choices import BUILTIN_GAZETTEERS
from slotfill.data.example import Example
from slotfill.errors import ConfigError, ModelError
from slotfill.features.gazetteer import (
    Entry,
    Gazetteer,
    GazetteerSet,
    form_words,
    merge_entries,
    parse_entries,
    read_gazetteer_file,
)
from slotfill.features.patterns import PatternSet
from slotfill.layout import GAZETTEER_SUBDIR
from slotfill.text import bio

INDEX = "index.json"
STATE_COUNTRIES = ("US", "CA")  # the countries whose subdivisions are the `state` list (and state values)
_AIRPORT_WORDS = ("airport", "airfield", "aerodrome", "airstrip", "airpark", "heliport")
_QUALIFIERS = ("international", "intl", "ntl", "regional", "municipal")


def slot_type(label: str) -> str:
    """The kind of a slot label: `fromloc.city_name` -> `city_name`."""
    return label.rsplit(".", 1)[-1]


def slot_values(examples: Iterable[Example], slot_types: Sequence[str]) -> list[Entry]:
    """The values (token text joined by spaces) of the slots of these types, in order of first use."""
    wanted, values = set(slot_types), {}
    for example in examples:
        for span in bio.spans(example.tags):
            if slot_type(span.label) in wanted:
                values.setdefault(" ".join(example.tokens[span.start : span.end]), None)
    return [(value,) for value in values if form_words(value)]


@cache
def airports() -> tuple[dict[str, Any], ...]:
    """Every airport airportsdata has an IATA code for (loaded once: about 0.15 s)."""
    import airportsdata

    return tuple(airportsdata.load("IATA").values())


def airportsdata_version() -> str:
    from importlib.metadata import version

    return version("airportsdata")


def _strip_words(words: list[str], strip: tuple[str, ...]) -> list[str]:
    while len(words) > 1 and words[-1].lower().strip("()") in strip:
        words = words[:-1]
    return words


def airport_forms(name: str, city: str) -> Entry:
    """An airport's name and the shorter names people use for it; never the bare city name."""
    words = name.split()
    bare = _strip_words(words, _AIRPORT_WORDS)  # "General Mitchell International"
    core = _strip_words(bare, _AIRPORT_WORDS + _QUALIFIERS)  # "General Mitchell", "Chicago O'Hare"
    forms = [name, " ".join(bare), " ".join(core)]
    city_words = city.split()
    if city_words and core[: len(city_words)] == city_words and len(core) > len(city_words):
        forms.append(" ".join(core[len(city_words) :]))  # "O'Hare"
    if city:
        forms.append(f"{city} Airport")
    city_key = form_words(city)
    kept: dict[tuple[str, ...], str] = {}
    for form in forms:
        key = form_words(form)
        if key and key != city_key and not (len(key) == 1 and key[0] in _QUALIFIERS + _AIRPORT_WORDS):
            kept.setdefault(key, form)
    return tuple(kept.values())


def builtin_entries(kind: str) -> list[Entry]:
    every = airports()
    if kind == "city":
        return [(city,) for city in dict.fromkeys(a["city"].strip() for a in every) if form_words(city)]
    if kind == "airport":
        return [forms for a in every if (forms := airport_forms(a["name"].strip(), a["city"].strip()))]
    if kind == "airport_code":
        return [(a["iata"],) for a in every if a["iata"]]
    if kind == "state":
        states = dict.fromkeys(a["subd"].strip() for a in every if a["country"] in STATE_COUNTRIES)
        return [(state,) for state in states if form_words(state)]
    raise ValueError(f"unknown built-in gazetteer {kind!r} (expected one of {', '.join(BUILTIN_GAZETTEERS)})")


def build_gazetteers(
    sources: Mapping[str, Any],
    train: Sequence[Example],
    lookups: Mapping[str, Sequence[Entry]] | None = None,
    patterns: PatternSet = PatternSet(),
) -> GazetteerSet:
    """The lists a config names, each merged from its built-in list, file, training slot values and
    lookup list of the training data (`lookups`, by name), with the run's `patterns` beside them.
    `sources` maps a name to an object with `builtin`, `file`, `slots` and `lookup` (config.GazetteerSource)."""
    gazetteers = []
    for name, source in sources.items():
        parts: list[Iterable[Entry]] = []
        described = []
        if source.builtin is not None:
            parts.append(builtin_entries(source.builtin))
            described.append(f"airportsdata {airportsdata_version()} {source.builtin}")
        if source.file is not None:
            parts.append(read_gazetteer_file(source.file))
            described.append(f"file {source.file}")
        if source.slots:
            parts.append(slot_values(train, source.slots))
            described.append(f"training values of {', '.join(source.slots)}")
        if source.lookup is not None:
            if source.lookup not in (lookups or {}):
                known = ", ".join(lookups or {}) or "none"
                raise ConfigError(
                    f"gazetteers.{name}.lookup: {source.lookup!r} is not a lookup list of the training data (it has: {known})"
                )
            parts.append((lookups or {})[source.lookup])
            described.append(f"lookup {source.lookup} of the training data")
        gazetteers.append(Gazetteer(name, merge_entries(*parts), " + ".join(described)))
    return GazetteerSet(gazetteers, None, patterns)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_gazetteers(directory: Path, gazetteers: GazetteerSet) -> None:
    """Write `directory/gazetteers/` (nothing when there are no lists and no patterns): the lists,
    and index.json naming them and holding the patterns. `directory` is a staging directory: the
    caller swaps it in whole."""
    if not len(gazetteers) and not len(gazetteers.patterns):
        return
    folder = Path(directory) / GAZETTEER_SUBDIR
    folder.mkdir()
    index = []
    for gazetteer in gazetteers.gazetteers:
        data = ("\n".join(gazetteer.lines()) + "\n").encode("utf-8")
        (folder / f"{gazetteer.name}.txt").write_bytes(data)
        index.append(
            {
                "name": gazetteer.name,
                "entries": len(gazetteer.entries),
                "source": gazetteer.source,
                "sha256": _sha256(data),
            }
        )
    payload: dict[str, Any] = {"lists": index}
    if len(gazetteers.patterns):
        payload["patterns"] = gazetteers.patterns.to_json()
    (folder / INDEX).write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load_gazetteers(directory: Path, names: Sequence[str]) -> GazetteerSet:
    """The lists saved in `directory/gazetteers/`, which must be exactly `names` (the config's), in
    that order, each file whole, and the patterns saved beside them. Raises ModelError naming the file."""
    folder = Path(directory) / GAZETTEER_SUBDIR
    if not names and not (folder / INDEX).is_file():
        return GazetteerSet()  # no lists, no patterns (and every model before patterns without lists)
    try:
        saved = json.loads((folder / INDEX).read_text(encoding="utf-8"))
        index, listed = saved["lists"], [item["name"] for item in saved["lists"]]
        patterns = PatternSet.from_json(saved.get("patterns", []))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ModelError(f"{folder / INDEX}: missing or damaged gazetteer index ({error})") from None
    if listed != list(names):
        raise ModelError(f"{folder / INDEX}: lists {listed} do not match the config's gazetteers {list(names)}")
    gazetteers = []
    for item in index:
        path = folder / f"{item['name']}.txt"
        try:
            data = path.read_bytes()
        except OSError:
            raise ModelError(f"{path}: gazetteer file missing") from None
        if _sha256(data) != item.get("sha256"):
            raise ModelError(f"{path}: damaged gazetteer file (its checksum does not match {INDEX})")
        entries = tuple(parse_entries(data.decode("utf-8").splitlines(), str(path)))
        gazetteers.append(Gazetteer(item["name"], entries, str(item.get("source", ""))))
    return GazetteerSet(gazetteers, None, patterns)
