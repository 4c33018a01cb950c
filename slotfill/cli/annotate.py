"""`slotfill annotate`: correct the model's parses in the terminal, most doubtful first
(slotfill.annotation.session holds the session; this module only reads keys and prints)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.text import Text

from slotfill.cli._util import DEVICE_HELP, ModelArgument, call, fail
from slotfill.options import PredictorOptions

if TYPE_CHECKING:
    from slotfill.cli.progress import SlotStyles


def annotate(
    model_dir: ModelArgument,
    input_file: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="Utterances, one a line (or JSON lines with a text: a serve --log-requests log)."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Where each decision is appended, in the span format train reads; resumed if it exists.",
        ),
    ],
    order: Annotated[
        str,
        typer.Option(
            help="uncertain: the parses the model doubts most first; rejected: those it rejects as out of scope "
            "first; input: the file's order."
        ),
    ] = "uncertain",
    min_confidence: Annotated[
        Optional[float],
        typer.Option(
            "--min-confidence", min=0.0, max=1.0, help="Skip parses the model is this sure of (their whole reading)."
        ),
    ] = None,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = PredictorOptions.device,
) -> None:
    """Correct the model's parses of real utterances, one at a time; every decision is saved at once.

    Enter accepts the parse; l N LABEL relabels slot N; d N removes it; a LABEL I-J marks tokens I..J
    (or a LABEL = some words); i INTENT changes the intent; s skips; u undoes the last decision; q quits.
    Run it again with the same --output to go on where you stopped.

    Examples:

      slotfill annotate runs/smarthome --input utterances.txt --output corrected.jsonl

      slotfill train configs/smarthome.yaml --init-from runs/smarthome --output runs/smarthome-2 --set "data.train=[train.jsonl, $PWD/corrected.jsonl]"
    """
    from slotfill.annotation.session import ORDERS, Session, model_fingerprint, read_utterances
    from slotfill.cli.progress import SlotStyles
    from slotfill.predict import Predictor

    if order not in ORDERS:
        raise fail(f"--order {order!r}: expected one of {', '.join(ORDERS)}")
    predictor = call(Predictor.from_options, model_dir, PredictorOptions(device=device, values=False))
    turns = call(lambda: list(read_utterances(input_file)))
    loaded = predictor.loaded
    model = model_fingerprint(loaded.config.to_yaml(), loaded.vocab.to_json())
    parses = call(lambda: list(predictor.parse_turns(turns, alternatives=1, values=False)))
    for parsed, (_, context) in zip(parses, turns):  # the context each was parsed in goes with it
        if context:
            parsed["context"] = context.to_json()
    session = call(Session, parses, output, model, order, min_confidence, loaded.config.out_of_scope.intent)
    out = Console()
    style = SlotStyles(predictor.slot_types)
    out.print(f"{session.remaining} to annotate ({len(session.decided)} already in {output}); q quits", style="dim")
    while session.current is not None:
        _show(out, session.current, session.remaining, style)
        try:
            line = out.input("[bold]> [/]")
        except (EOFError, KeyboardInterrupt):
            break
        if line.strip().lower() == "q":
            break
        message = session.command(line)
        if message:
            out.print(message, style="yellow")
    out.print(f"{len(session.decided)} decisions in {output}", style="dim")


def _show(out: Console, item: Any, remaining: int, style: SlotStyles) -> None:
    text = Text(item.text)
    for slot in item.slots:
        text.stylize(style(slot["slot"]), slot["start"], slot["end"])
    out.rule(f"{remaining} left")
    if item.context:
        out.print(Text(f"  (the system asked for: {', '.join(item.context['requested_slots'])})", style="dim"))
    out.print(text)
    out.print(Text(" ".join(f"{i}:{t.text}" for i, t in enumerate(item.tokens, 1)), style="dim"))
    for number, slot in enumerate(item.slots, 1):
        confidence = slot.get("confidence")
        sure = f"  {100 * confidence:.1f}%" if confidence is not None else "  (yours)"
        out.print(
            Text(
                f"  {number}. {slot['slot']} = {item.text[slot['start'] : slot['end']]!r}{sure}",
                style=style(slot["slot"]),
            )
        )
    intent_confidence = item.parsed.get("intent_confidence")
    sure = f" ({100 * intent_confidence:.1f}%)" if intent_confidence is not None and not item.changed else ""
    rejected = item.parsed.get("rejected")
    if rejected and not item.changed:  # `i INTENT` gives it one; accepting it as is keeps it out of scope
        out.print(f"  intent: none, rejected as {rejected.replace('_', ' ')}{sure}")
    else:
        out.print(f"  intent: {item.intent}{sure}")
