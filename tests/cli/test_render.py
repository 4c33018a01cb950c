"""The terminal's renderings: every slot type of a model has its own style."""

from __future__ import annotations

from slotfill.cli.progress import SlotStyles, render_parse


def test_every_slot_type_of_a_model_has_its_own_style() -> None:
    types = [f"type_{i}" for i in range(94)] + ["artist", "genre"]  # 96: as many as there are styles
    style = SlotStyles(types)
    assert len({style(t) for t in types}) == 96
    assert style("artist") != style("genre")  # crc32 gave both cyan
    assert style("a_label_typed_in_annotate") == style("type_0")  # the 97th wraps round, never fails
    assert style("type_5") == style("type_5")


def test_a_parse_is_shown_with_its_slots_styled_and_dimmed_when_unsure() -> None:
    parsed = {
        "text": "play jazz by miles",
        "slots": [
            {"slot": "genre", "text": "jazz", "start": 5, "end": 9, "confidence": 0.9},
            {"slot": "artist", "text": "miles", "start": 13, "end": 18, "confidence": 0.3},
        ],
        "intent": "PlayMusic",
        "intent_confidence": 0.97,
    }
    style = SlotStyles(["artist", "genre"])
    sentence = render_parse(parsed, style)[0]
    spans = {(span.start, span.end): str(span.style) for span in sentence.spans}
    assert spans == {(5, 9): style("genre"), (13, 18): style("artist") + " dim"}


def test_the_evaluation_table_shows_what_the_json_has() -> None:
    from rich.console import Console

    from slotfill.cli.progress import metrics_tables

    metrics = {
        "slot_f1": 0.9512, "slot_precision": 0.95, "slot_recall": 0.9524, "intent_accuracy": 0.97,
        "sentence_accuracy": 0.85, "slot_ece": 0.0209, "sentences": 893, "intents_scored": 890,
        "unseen_in_training": {"tags": 3, "intents": 1},
        "per_slot": {"toloc.city_name": {"precision": 0.99, "recall": 1.0, "f1": 0.995, "support": 716}},
    }  # fmt: skip
    console = Console(width=80, record=True)
    for table in metrics_tables(metrics):
        console.print(table)
    rows = [line.strip("│ ").split() for line in console.export_text().splitlines() if "│" in line]
    assert rows[:9] == [
        ["slot_f1", "│", "95.12"],
        ["slot_precision", "│", "95.00"],
        ["slot_recall", "│", "95.24"],
        ["intent_accuracy", "│", "97.00"],
        ["sentence_accuracy", "│", "85.00"],
        ["slot_ece", "│", "0.0209"],
        ["sentences", "│", "893"],
        ["intents_scored", "│", "890"],
        ["unseen_in_training", "│", "3", "tags,", "1", "intents"],
    ]
