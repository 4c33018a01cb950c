"""`slotfill evaluate --report DIR`: what the model gets wrong, where, and how sure it was.

    errors.jsonl           one line per wrong sentence: text, gold and predicted slots and intent,
                           and each error classified (missed, spurious, wrong label, wrong boundary, intent)
    predictions.jsonl      every sentence's gold and predicted parse
    confusion.csv          gold slot x predicted slot counts, with (missed) and (spurious)
    intent_confusion.csv   gold intent x predicted intent counts
    report.html            one self-contained page (plots inline as SVG, no network): summary, per-slot
                           table, the most confused slots, per-slot F1, the reliability diagram of the
                           slot confidences, the training curves (when the model has a train_log.jsonl
                           beside it), and the error list with gold and predicted spans highlighted

Slots are aligned by overlap: a gold and a predicted slot that share a token are a pair (counted
under their two labels); a gold slot no prediction touches is missed, a prediction no gold slot
touches is spurious.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slotfill.choices import HEADLINE_METRICS, SCORES
from slotfill.data.example import Example
from slotfill.data.writers import text_and_spans
from slotfill.evaluation.evaluate import Evaluation, slot_calibration
from slotfill.evaluation.out_of_scope import OUT_OF_SCOPE_MEASURES, as_percent
from slotfill.evaluation.scoring import reliability
from slotfill.files import writing_dir
from slotfill.text import bio

MISSED, SPURIOUS = "(missed)", "(spurious)"
TOP_CONFUSED = 15


def _slots(example: Example, confidences: Sequence[float] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The example's text (the original utterance where it was read from one) and its slots, each
    with offsets into that text."""
    text, spans = text_and_spans(example)
    slots = [{"slot": label, "text": text[start:end], "start": start, "end": end} for start, end, label in spans]
    for slot, confidence in zip(slots, confidences or []):
        slot["confidence"] = round(confidence, 4)
    return text, slots


def classify(gold: Sequence[bio.Span], predicted: Sequence[bio.Span]) -> list[dict[str, Any]]:
    """The slot errors of one sentence."""
    errors = []
    for span in gold:
        if span in predicted:
            continue
        touching = [p for p in predicted if p.start < span.end and span.start < p.end]
        if not touching:
            errors.append({"kind": "missed", "gold": span.label})
        elif any(p.start == span.start and p.end == span.end for p in touching):
            errors.append({"kind": "wrong label", "gold": span.label, "predicted": touching[0].label})
        else:
            errors.append({"kind": "wrong boundary", "gold": span.label, "predicted": touching[0].label})
    for span in predicted:
        if not any(g.start < span.end and span.start < g.end for g in gold):
            errors.append({"kind": "spurious", "predicted": span.label})
    return errors


def slot_confusion(examples: Sequence[Example], predicted_tags: Sequence[Sequence[str]]) -> Counter[tuple[str, str]]:
    """(gold label, predicted label) counts over slots aligned by overlap."""
    counts: Counter[tuple[str, str]] = Counter()
    for example, tags in zip(examples, predicted_tags):
        gold, predicted = bio.spans(example.tags), bio.spans(tags)
        paired = set()
        for span in gold:
            touching = [
                i for i, p in enumerate(predicted) if p.start < span.end and span.start < p.end and i not in paired
            ]
            if touching:
                paired.add(touching[0])
                counts[span.label, predicted[touching[0]].label] += 1
            else:
                counts[span.label, MISSED] += 1
        for i, span in enumerate(predicted):
            if i not in paired and not any(g.start < span.end and span.start < g.end for g in gold):
                counts[SPURIOUS, span.label] += 1
    return counts


def write_report(
    directory: Path,
    examples: Sequence[Example],
    evaluation: Evaluation,
    train_log: Path | None = None,
    title: str = "slotfill evaluation",
) -> dict[str, int]:
    """Write the report files into `directory` (replaced whole). Returns counts for the caller."""
    rows, errors = _rows(examples, evaluation)
    confusion = slot_confusion(examples, [t.tags for t in evaluation.tagged])
    intents = Counter(
        (e.intent or "", intent or "") for e, intent in zip(examples, evaluation.intents()) if e.intent is not None
    )
    with writing_dir(Path(directory)) as staged:
        (staged / "predictions.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
        (staged / "errors.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in errors), encoding="utf-8"
        )
        _write_confusion(staged / "confusion.csv", confusion, "gold slot")
        _write_confusion(staged / "intent_confusion.csv", intents, "gold intent")
        page = _page(title, evaluation, errors, confusion, examples, train_log)
        (staged / "report.html").write_text(page, encoding="utf-8")
    return {"sentences": len(rows), "errors": len(errors)}


def _rows(examples: Sequence[Example], evaluation: Evaluation) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, errors = [], []
    intents = evaluation.intents()
    for number, (example, result, intent) in enumerate(zip(examples, evaluation.tagged, intents), 1):
        predicted = Example(example.tokens, tuple(result.tags), intent, text=example.text)
        text, gold_slots = _slots(example)
        _, predicted_slots = _slots(predicted, result.slot_confidences)  # the same text: the same tokens
        row = {
            "sentence": number,
            "text": text,
            "gold": {"slots": gold_slots, "intent": example.intent},
            "predicted": {"slots": predicted_slots, "intent": intent},
        }
        if result.rejected:
            row["predicted"]["rejected"] = result.rejected
        rows.append(row)
        kinds = classify(bio.spans(example.tags), bio.spans(result.tags))
        if example.intent is not None and example.intent != intent:
            kinds.append({"kind": "intent", "gold": example.intent, "predicted": intent})
        if kinds:
            errors.append({**row, "errors": kinds})
    return rows, errors


def _write_confusion(path: Path, counts: Counter[tuple[str, str]], corner: str) -> None:
    golds = sorted({g for g, _ in counts})
    predicted = sorted({p for _, p in counts})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([corner, *predicted])
        for gold in golds:
            writer.writerow([gold, *(counts.get((gold, p), 0) for p in predicted)])


# --- the page -----------------------------------------------------------------------------------------


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # no XML prolog inside HTML


def _plots(
    evaluation: Evaluation, confusion: Counter[tuple[str, str]], examples: Sequence[Example], train_log: Path | None
) -> dict[str, str]:
    """The report's figures as SVG, by name; a figure without data to show is left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {
        "f1": _f1_figure(plt, evaluation.metrics["per_slot"]),
        "confusion": _confusion_figure(plt, confusion),
        "reliability": _reliability_figure(plt, evaluation, examples),
        "out_of_scope": _out_of_scope_figure(plt, evaluation.metrics.get("out_of_scope")),
        "training": _training_figure(plt, train_log),
    }
    return {name: _svg(figure) for name, figure in figures.items() if figure is not None}


def _f1_figure(plt: Any, per_slot: dict[str, dict[str, Any]]) -> Any:
    rows = sorted(per_slot.items(), key=lambda kv: kv[1]["f1"])
    figure, axes = plt.subplots(figsize=(7, max(2.5, 0.22 * len(rows))))
    axes.barh([k for k, _ in rows], [100 * v["f1"] for _, v in rows], color="#4c72b0")
    axes.set_xlabel("F1 (%)")
    axes.set_xlim(0, 100)
    axes.tick_params(axis="y", labelsize=7)
    return figure


def _confusion_figure(plt: Any, confusion: Counter[tuple[str, str]]) -> Any:
    """The labels most often confused (gold -> predicted), where any are."""
    off = Counter({pair: n for pair, n in confusion.items() if pair[0] != pair[1]})
    labels = list(dict.fromkeys(label for pair, _ in off.most_common(TOP_CONFUSED) for label in pair))
    if not labels:
        return None
    figure, axes = plt.subplots(figsize=(1.2 + 0.45 * len(labels), 1 + 0.4 * len(labels)))
    grid = [[off.get((g, p), 0) for p in labels] for g in labels]
    image = axes.imshow(grid, cmap="Reds")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    axes.set_yticks(range(len(labels)), labels, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    for i, row in enumerate(grid):
        for j, n in enumerate(row):
            if n:
                axes.text(j, i, str(n), ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes, shrink=0.6)
    return figure


def _reliability_figure(plt: Any, evaluation: Evaluation, examples: Sequence[Example]) -> Any:
    bins = reliability(*slot_calibration(examples, evaluation.tagged))
    figure, axes = plt.subplots(figsize=(4.5, 4.5))
    centres = [(b["low"] + b["high"]) / 2 for b in bins]
    axes.bar(centres, [b["accuracy"] if b["count"] else 0 for b in bins], width=0.09, color="#55a868", label="accuracy")
    axes.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    axes.set_xlabel("slot confidence")
    axes.set_ylabel("share of slots exactly right")
    axes.set_title(f"ECE {evaluation.metrics['slot_ece']:.4f}")
    axes.legend(loc="upper left", fontsize=8)
    return figure


def _out_of_scope_figure(plt: Any, measured: dict[str, Any] | None) -> Any:
    """In-scope and out-of-scope utterances by intent confidence, where gold has out-of-scope ones."""
    if measured is None:
        return None
    histogram = measured["confidence_histogram"]
    edges = histogram["bins"]
    centres = [(low + high) / 2 for low, high in zip(edges, edges[1:])]
    figure, axes = plt.subplots(figsize=(6, 3.2))
    for key, colour in (("in_scope", "#4c72b0"), ("out_of_scope", "#c44e52")):
        total = max(1, sum(histogram[key]))
        shares = [100 * n / total for n in histogram[key]]
        axes.bar(centres, shares, width=0.045, alpha=0.6, color=colour, label=key.replace("_", " "))
    axes.set_xlabel("confidence of the best in-scope intent")
    axes.set_ylabel("share of utterances (%)")
    auroc = measured["auroc"]
    axes.set_title(f"AUROC {100 * auroc:.2f}" if auroc is not None else "")
    axes.legend(fontsize=8)
    return figure


def _training_figure(plt: Any, train_log: Path | None) -> Any:
    """The training loss and the dev scores by epoch, where the run's log is beside the model."""
    if train_log is None or not train_log.is_file():
        return None
    epochs = [json.loads(line) for line in train_log.read_text(encoding="utf-8").splitlines() if line.strip()]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot([e["epoch"] for e in epochs], [e["train_loss"] for e in epochs], marker="o")
    left.set_xlabel("epoch")
    left.set_ylabel("training loss")
    for key in SCORES:
        points = [(e["epoch"], 100 * e["dev"][key]) for e in epochs if e.get("dev") and key in e["dev"]]
        if points:
            right.plot(*zip(*points), marker="o", label=key.replace("_", " "))
    right.set_xlabel("epoch")
    right.set_ylabel("dev (%)")
    right.legend(fontsize=8)
    return figure


def _highlight(text: str, slots: Sequence[dict[str, Any]], kind: str) -> str:
    pieces, at = [], 0
    for slot in slots:
        pieces.append(html.escape(text[at : slot["start"]]))
        label = html.escape(slot["slot"]) + (f" {100 * slot['confidence']:.0f}%" if "confidence" in slot else "")
        pieces.append(
            f'<mark class="{kind}" title="{label}">{html.escape(text[slot["start"] : slot["end"]])}<sub>{label}</sub></mark>'
        )
        at = slot["end"]
    return "".join(pieces) + html.escape(text[at:])


def _page(
    title: str,
    evaluation: Evaluation,
    errors: list[dict[str, Any]],
    confusion: Counter[tuple[str, str]],
    examples: Sequence[Example],
    train_log: Path | None,
) -> str:
    metrics = evaluation.metrics
    plots = _plots(evaluation, confusion, examples, train_log)
    summary = "".join(
        f"<tr><th>{n.replace('_', ' ')}</th><td>{100 * metrics[n]:.2f}</td></tr>"
        for n in HEADLINE_METRICS
        if n in metrics
    )
    summary += f"<tr><th>slot ECE</th><td>{metrics['slot_ece']:.4f}</td></tr><tr><th>sentences</th><td>{metrics['sentences']}</td></tr>"
    measured = metrics.get("out_of_scope")
    if measured is not None:
        summary += "".join(
            f"<tr><th>{n.replace('_', ' ')}</th><td>{as_percent(measured[n])}</td></tr>" for n in OUT_OF_SCOPE_MEASURES
        )
    for group, measured_group in metrics.get("by_context", {}).items():  # dialogue turns (docs/dialogue-context.md)
        summary += (
            f"<tr><th>slot F1, turns {group.replace('_', ' ')}</th>"
            f"<td>{100 * measured_group['slot_f1']:.2f} ({measured_group['turns']} turns)</td></tr>"
        )
    per_slot = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{100 * v['precision']:.1f}</td><td>{100 * v['recall']:.1f}</td>"
        f"<td>{100 * v['f1']:.1f}</td><td>{v['support']}</td></tr>"
        for k, v in metrics["per_slot"].items()
    )
    error_rows = "".join(
        f'<tr class="error"><td>{e["sentence"]}</td><td>{_highlight(e["text"], e["gold"]["slots"], "gold")}'
        f"<br>{_highlight(e['text'], e['predicted']['slots'], 'predicted')}</td>"
        f"<td>{html.escape(str(e['gold']['intent']))}<br>{html.escape(str(e['predicted']['intent']))}</td>"
        f"<td>{'<br>'.join(html.escape(_describe(k)) for k in e['errors'])}</td></tr>"
        for e in errors
    )
    figures = "".join(
        f'<figure id="plot-{name}"><figcaption>{caption}</figcaption>{plots[name]}</figure>'
        for name, caption in (
            ("training", "Training: loss and dev metrics per epoch"),
            ("f1", "F1 per slot"),
            ("confusion", f"The most confused slots (top {TOP_CONFUSED} gold/predicted pairs off the diagonal)"),
            ("reliability", "Reliability of the slot confidences (10 bins)"),
            ("out_of_scope", "Intent confidence, in-scope and out-of-scope utterances"),
        )
        if name in plots
    )
    return _TEMPLATE.format(
        title=html.escape(title),
        summary=summary,
        per_slot=per_slot,
        figures=figures,
        errors=error_rows,
        count=len(errors),
    )


def _describe(error: dict[str, Any]) -> str:
    kind = error["kind"]
    if kind == "missed":
        return f"missed {error['gold']}"
    if kind == "spurious":
        return f"spurious {error['predicted']}"
    return f"{kind}: {error.get('gold')} → {error.get('predicted')}"


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ddd; padding: 3px 8px; text-align: left; }}
figure {{ display: inline-block; vertical-align: top; margin: 1em; }} figure svg {{ max-width: 100%; height: auto; }}
mark {{ padding: 0 2px; border-radius: 3px; }} mark.gold {{ background: #c8e6c9; }} mark.predicted {{ background: #ffe0b2; }}
mark sub {{ font-size: 9px; color: #555; margin-left: 2px; }}
</style></head><body>
<h1>{title}</h1>
<h2>Summary</h2><table id="summary">{summary}</table>
<h2>Plots</h2>{figures}
<h2>Per slot</h2><table id="per-slot"><tr><th>slot</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>{per_slot}</table>
<h2>Errors ({count} sentences)</h2>
<p>Each sentence twice: <mark class="gold">gold</mark> above, <mark class="predicted">predicted</mark> below (with confidences).</p>
<table id="errors"><tr><th>#</th><th>sentence</th><th>intent (gold / predicted)</th><th>errors</th></tr>{errors}</table>
</body></html>
"""
