"""Rich renderings for the CLI: training progress, metric tables, highlighted slots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from slotfill.choices import HEADLINE_METRICS
from slotfill.training.events import EpochSummary

_PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta", "bright_green", "bright_yellow", "bright_blue", "bright_red")  # fmt: skip
_VARIANTS = ("", " underline", " italic", " reverse", " underline italic", " underline reverse", " italic reverse", " underline italic reverse")  # fmt: skip


class RichTrainingObserver:
    """A progress bar per epoch and one summary line per epoch, on the given (stderr) console.
    `announcement()` is asked after every batch for a message to print (a signal arrived): this
    runs on the training (main) thread, never in a signal handler."""

    def __init__(self, console: Console, epochs: int, announcement: Callable[[], str | None] = lambda: None) -> None:
        self.console, self.epochs, self.announcement = console, epochs, announcement
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.3f}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None

    def __enter__(self) -> RichTrainingObserver:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def epoch_started(self, epoch: int, num_batches: int, batches_done: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(
            "train", total=num_batches, completed=batches_done, epoch=epoch, epochs=self.epochs, loss=0.0
        )

    def batch_done(self, loss: float) -> None:
        self.progress.update(self.task, advance=1, loss=loss)
        message = self.announcement()
        if message is not None:
            self.progress.console.print(message, highlight=False, soft_wrap=True)

    def epoch_done(self, summary: EpochSummary) -> None:
        line = f"epoch {summary.epoch:3d}  loss {summary.train_loss:8.4f}"
        if summary.dev is not None:
            dev = summary.dev
            line += f"  dev slot_f1 {100 * dev['slot_f1']:6.2f}"
            if "intent_accuracy" in dev:
                line += f"  intent {100 * dev['intent_accuracy']:6.2f}"
            line += f"  sentence {100 * dev['sentence_accuracy']:6.2f}"
        line += f"  {summary.seconds:5.1f} s" + ("  *best" if summary.improved else "")
        self.progress.console.print(line, highlight=False, soft_wrap=True)


# evaluate's summary rows, in order: intent accuracy with the model's rejection, then without it (the
# literature's figure) and the share of in-scope utterances the rejection turned away
REJECTION_ROWS = ("intent_accuracy_without_rejection", "in_scope_rejected")
HEADLINE_ROWS = tuple(
    row for name in HEADLINE_METRICS for row in ((name, *REJECTION_ROWS) if name == "intent_accuracy" else (name,))
)


def metrics_tables(metrics: dict[str, Any]) -> list[Table]:
    summary = Table(title="Evaluation", show_header=False)
    for name in HEADLINE_ROWS:
        if name in metrics:
            summary.add_row(name, f"{100 * metrics[name]:.2f}")
    if "slot_ece" in metrics:
        summary.add_row("slot_ece", f"{metrics['slot_ece']:.4f}")
    summary.add_row("sentences", str(metrics["sentences"]))
    for group, measured in metrics.get("by_context", {}).items():  # dialogue turns (docs/dialogue-context.md)
        summary.add_row(f"slot_f1 {group}", f"{100 * measured['slot_f1']:.2f} ({measured['turns']} turns)")
    if "intents_scored" in metrics:
        summary.add_row("intents_scored", str(metrics["intents_scored"]))
    unseen = metrics.get("unseen_in_training")
    if unseen is not None:
        summary.add_row("unseen_in_training", f"{unseen['tags']} tags, {unseen['intents']} intents")
    if "rejected" in metrics:
        summary.add_row("rejected", f"{metrics['rejected']} (intent null: out of scope or ambiguous)")
    per_slot = Table(title="Per slot")
    for column in ("slot", "precision", "recall", "f1", "support"):
        per_slot.add_column(column, justify="left" if column == "slot" else "right")
    for slot, row in metrics["per_slot"].items():
        per_slot.add_row(slot, *(f"{100 * row[k]:.2f}" for k in ("precision", "recall", "f1")), str(row["support"]))
    tables = [summary, per_slot]
    if "out_of_scope" in metrics:
        tables.append(_out_of_scope_table(metrics["out_of_scope"]))
    return tables


def _out_of_scope_table(measured: dict[str, Any]) -> Table:
    table = Table(title="Out of scope", show_header=False)
    table.add_row("utterances", f"{measured['in_scope']} in scope, {measured['out_of_scope']} out of scope")
    from slotfill.evaluation.out_of_scope import OUT_OF_SCOPE_MEASURES, as_percent

    for name in (*OUT_OF_SCOPE_MEASURES, "auroc"):
        table.add_row(name, as_percent(measured[name]))
    return table


class SlotStyles:
    """One style per slot type of a model, distinct for the first 96 types (12 colours, then the
    same colours underlined, in italics, reversed and their combinations), by the type's place in
    the model's list; a type the model does not know (a label typed in `annotate`) takes the next."""

    def __init__(self, slot_types: list[str]) -> None:
        self.index = {slot: i for i, slot in enumerate(slot_types)}

    def __call__(self, slot: str) -> str:
        number = self.index.setdefault(slot, len(self.index))
        colour, variant = _PALETTE[number % len(_PALETTE)], _VARIANTS[number // len(_PALETTE) % len(_VARIANTS)]
        return f"bold {colour}{variant}"


UNSURE = 0.5  # slots below this confidence are shown dimmed


def _slot_table(slots: list[dict[str, Any]], with_values: bool, style: SlotStyles) -> Table:
    """slot, text, confidence (and value) per slot; unsure ones dimmed."""
    from slotfill.values.kinds import value_text

    table = Table(show_header=True, box=None)
    for column in ("slot", "text", "confidence", *(["value"] if with_values else [])):
        table.add_column(column, justify="right" if column == "confidence" else "left")
    for slot in slots:
        dim = " dim" if slot.get("confidence", 1.0) < UNSURE else ""
        confidence = f"{100 * slot['confidence']:.1f}%" if "confidence" in slot else ""
        cells = [
            Text(slot["slot"], style=style(slot["slot"]) + dim),
            Text(slot["text"], style=dim),
            Text(confidence, style=dim),
        ]
        if with_values:
            cells.append(Text(value_text(slot["value"]) if "value" in slot else "", style=dim))
        table.add_row(*cells)
    return table


def render_parse(parsed: dict[str, Any], style: SlotStyles) -> list[RenderableType]:
    """The sentence with each slot highlighted (unsure ones dimmed), then a slot -> text table with
    confidences, the slots under --min-confidence and the alternatives."""
    text = Text(parsed["text"])
    for slot in parsed["slots"]:
        dim = " dim" if slot.get("confidence", 1.0) < UNSURE else ""
        text.stylize(style(slot["slot"]) + dim, slot["start"], slot["end"])
    shown: list[RenderableType] = [text]
    if parsed.get("intent") is not None:
        shown.append(Text(f"intent: {parsed['intent']} ({100 * parsed['intent_confidence']:.1f}%)", style="dim"))
    elif parsed.get("rejected"):
        reason = parsed["rejected"].replace("_", " ")
        shown.append(Text(f"intent: none, rejected as {reason} (its slots are shown as tagged)", style="yellow"))
    if parsed["slots"]:
        shown.append(_slot_table(parsed["slots"], "frame" in parsed, style))
    else:
        shown.append(Text("no slots", style="dim"))
    if parsed.get("frame"):
        from slotfill.values.kinds import value_text

        frame = "; ".join(f"{key} = {value_text(value)}" for key, value in parsed["frame"].items())
        shown.append(Text(f"frame: {frame}"))
    if parsed.get("low_confidence"):
        below = ", ".join(f"{s['text']} = {s['slot']} ({100 * s['confidence']:.1f}%)" for s in parsed["low_confidence"])
        shown.append(Text(f"below --min-confidence: {below}", style="dim"))
    for rank, alternative in enumerate(parsed.get("alternatives", [])[1:], 2):
        slots = ", ".join(f"{s['text']} = {s['slot']}" for s in alternative["slots"]) or "no slots"
        shown.append(Text(f"#{rank} ({100 * alternative['probability']:.1f}%): {slots}", style="dim"))
    return shown
