"""CLINC150 (Larson et al., EMNLP 2019, "An Evaluation Dataset for Intent Classification and
Out-of-Scope Prediction"; CC BY 3.0; https://github.com/clinc/oos-eval) in slotfill's span format.

`data_full.json` holds 150 intents (100 train / 20 val / 30 test utterances each) and out-of-scope
utterances (100 / 100 / 1,000) labelled `oos`. `slotfill data download clinc150` verifies it and
writes `train.jsonl`, `dev.jsonl` and `test.jsonl` beside it: each utterance a line
`{"text", "intent", "slots": []}` (CLINC150 has no slots), the out-of-scope ones with the intent
OUT_OF_SCOPE, which a config declares as such (`out_of_scope.intent: oos`).
"""

from __future__ import annotations

import json
from pathlib import Path

from slotfill.choices import OUT_OF_SCOPE_LABEL
from slotfill.errors import DataError

SOURCE_FILES = ("data/data_full.json",)
OUT_OF_SCOPE = OUT_OF_SCOPE_LABEL  # CLINC150's own label of an out-of-scope utterance
# slotfill's split <- the file's in-scope and out-of-scope lists
SPLITS = {"train": ("train", "oos_train"), "dev": ("val", "oos_val"), "test": ("test", "oos_test")}


def convert(source: Path, target: Path) -> None:
    """data/data_full.json under `source` -> train.jsonl, dev.jsonl and test.jsonl in `target`."""
    path = source / SOURCE_FILES[0]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DataError(f"{path}: not CLINC150's JSON ({error})") from None
    for split, keys in SPLITS.items():
        lines = []
        for key in keys:
            for number, pair in enumerate(data.get(key) or [], 1):
                if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                    raise DataError(f"{path}: {key}[{number}]: expected [text, intent]")
                text, intent = pair
                lines.append(json.dumps({"text": text, "intent": intent, "slots": []}, ensure_ascii=False))
        if not lines:
            raise DataError(f"{path}: no {' or '.join(keys)} utterances")
        (target / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
