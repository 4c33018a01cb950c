"""xSID (van der Goot et al., NAACL 2021; CC BY-SA 4.0; https://github.com/mainlp/xsid) in
slotfill's span format: raw text and character spans, so that slotfill tokenises it itself.
`slotfill data download xsid` verifies xSID 0.7's files of LANGUAGES and writes these beside them.

For each language, the `LANG.valid.conll` sentences become `train.jsonl` (the first 80%) and
`dev.jsonl` (the rest) and `LANG.test.conll` becomes `test.jsonl` (xSID has no training data in
the target languages: its train split is English). The text is the file's `# text =` line; for
Japanese and Chinese, written without spaces, the spaces xSID's annotators put between words are
removed (but between two ASCII words), so the text is as people type it. Each annotated token is found in the text in order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from slotfill.errors import DataError

LANGUAGES = ("de", "ja", "zh")  # German (spaces), Japanese and Chinese (none)
NO_SPACES = ("ja", "zh")
SOURCE_FILES = tuple(f"{language}.{split}.conll" for language in LANGUAGES for split in ("valid", "test"))


def sentences(path: Path) -> list[dict]:
    """Each sentence: {"text", "intent", "tokens": [(token, tag)]}."""
    found, current = [], {"tokens": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# text ="):
            current["text"] = line.split("=", 1)[1].strip()
        elif line.startswith("# intent ="):
            current["intent"] = line.split("=", 1)[1].strip()
        elif line.strip() and not line.startswith("#"):
            columns = line.split("\t")
            if len(columns) != 4:
                raise DataError(f"{path}: {line!r}: expected 4 tab-separated columns (id, word, intent, slot)")
            _, token, _, tag = columns
            current["tokens"].append((token, tag))
        elif not line.strip() and current["tokens"]:
            found.append(current)
            current = {"tokens": []}
    if current["tokens"]:
        found.append(current)
    return found


def unspaced(text: str) -> str:
    """The text without the spaces beside a non-ASCII character ("今天 会 下雨" -> "今天会下雨"); spaces
    between two ASCII words stay ("Half a Life 6分" keeps its)."""
    return re.sub(r"(?<=[^\x00-\x7f]) +| +(?=[^\x00-\x7f])", "", text)


def to_spans(sentence: dict, no_spaces: bool, where: str) -> dict:
    text = unspaced(sentence["text"]) if no_spaces else sentence["text"]
    slots, at, open_slot = [], 0, None
    for token, tag in sentence["tokens"]:
        start = text.find(token, at)
        if start < 0:
            raise DataError(f"{where}: the word {token!r} is not in its text {text!r} (after character {at})")
        end, at = start + len(token), start + len(token)
        if tag.startswith("B-") or (tag.startswith("I-") and (open_slot is None or open_slot["slot"] != tag[2:])):
            open_slot = {"start": start, "end": end, "slot": tag[2:]}
            slots.append(open_slot)
        elif tag.startswith("I-") and open_slot is not None:
            open_slot["end"] = end
        else:
            open_slot = None
    return {"text": text, "intent": sentence["intent"], "slots": slots}


def convert(source: Path, out: Path, languages: tuple[str, ...] = LANGUAGES) -> dict[str, dict[str, int]]:
    """`source`/LANG.{valid,test}.conll -> `out`/LANG/{train,dev,test}.jsonl; the sentences per split."""
    counts = {}
    for language in languages:
        folder = out / language
        folder.mkdir(parents=True, exist_ok=True)
        valid = sentences(source / f"{language}.valid.conll")
        test = sentences(source / f"{language}.test.conll")
        cut = int(len(valid) * 0.8)
        splits = {"train": valid[:cut], "dev": valid[cut:], "test": test}
        for split, items in splits.items():
            records = [to_spans(s, language in NO_SPACES, f"{language}.{split}:{i}") for i, s in enumerate(items, 1)]
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            (folder / f"{split}.jsonl").write_text(lines, encoding="utf-8")
        counts[language] = {split: len(items) for split, items in splits.items()}
    return counts
