"""The commands that tag text: `predict` (batch, sharded under torchrun), `tag` (interactive)
and `serve` (HTTP). They parse arguments and call the library; cli.py registers them."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from slotfill.cli._util import DEVICE_HELP, ModelArgument, ThreadsOption, call, fail, stderr
from slotfill.cli.options import (
    AlternativesOption,
    BatchSizeOption,
    GazetteerOption,
    KeepAliveOption,
    MaxBatchOption,
    MaxCharsOption,
    MaxTokensOption,
    MinConfidenceOption,
    MinIntentConfidenceOption,
    NowOption,
    ReadTimeoutOption,
    RequestedSlotOption,
    ServeMaxCharsOption,
    ServeMaxTokensOption,
    ShutdownTimeoutOption,
    TimezoneOption,
    ValuesOption,
)
from slotfill.options import BATCH_SIZE, Limits, ParseOptions, PredictorOptions, ServeLimits


def _print_json_lines(results: Iterator[dict[str, Any]], progress: bool = False) -> None:
    """One JSON object per line on stdout; with `progress`, a count and rate on stderr."""
    from slotfill.cli.streams import write_json_lines

    if not progress:
        write_json_lines(results)
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.completed:,} sentences"),
        TextColumn("{task.speed} /s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, transient=False) as bar:
        task = bar.add_task("predict", total=None)
        count = write_json_lines(results, lambda n: n % BATCH_SIZE == 0 and bar.update(task, completed=n))
        bar.update(task, completed=count)


def predict(
    model_dir: ModelArgument,
    texts: Annotated[Optional[list[str]], typer.Argument(help="Utterances to tag.")] = None,
    input_file: Annotated[
        Optional[Path],
        typer.Option(
            "--input",
            "-i",
            help='Read one utterance per line from FILE, or - for stdin: plain text, or JSON lines {"text": ..., '
            '"context": {"requested_slots": [...]}}.',
        ),
    ] = None,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = PredictorOptions.device,
    batch_size: BatchSizeOption = PredictorOptions.batch_size,
    threads: ThreadsOption = None,
    gazetteer: GazetteerOption = None,
    max_chars: MaxCharsOption = Limits.max_chars,
    max_tokens: MaxTokensOption = Limits.max_tokens,
    alternatives: AlternativesOption = ParseOptions.alternatives,
    min_confidence: MinConfidenceOption = ParseOptions.min_confidence,
    min_intent_confidence: MinIntentConfidenceOption = ParseOptions.min_intent_confidence,
    now: NowOption = ParseOptions.now,
    timezone: TimezoneOption = PredictorOptions.timezone,
    values: ValuesOption = ParseOptions.values,
    requested_slot: RequestedSlotOption = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Write the JSON lines to this file (whole or not at all) instead of stdout."
        ),
    ] = None,
) -> None:
    """Tag utterances; print one JSON object per line, in input order.

    Each line: {"text", "tokens", "tags", "slots": [{"slot", "text", "start", "end", "confidence", "value"}],
    "frame", "intent", "intent_confidence"} (with --alternatives, "intents" and "alternatives"; with
    --min-confidence, "low_confidence"); "value" where a slot's text resolves (a date, time, number,
    city, ...) and "frame" the slots grouped by label prefix and resolved together; an utterance over
    --max-chars or --max-tokens gives {"error": "..."} in its place, and the others are tagged.

    Examples:

      slotfill predict runs/demo "arrive Taipei on November 2nd"

      slotfill predict runs/atis --input utterances.txt > parsed.jsonl

      slotfill predict runs/atis --now 2026-12-01T09:00 "flights to denver tomorrow morning"

      slotfill predict runs/dstc8 "13" --requested-slot travelers

      slotfill predict runs/demo --gazetteer city=data/gazetteers/new_cities.txt "what ground transportation is there in Early"

      torchrun --nproc-per-node 4 --no-python slotfill predict runs/atis --input logs.txt --output parsed.jsonl
    """
    from slotfill.cli.streams import check_arguments, read_lines, turns_of
    from slotfill.parallel.world import World

    if not texts and input_file is None:
        raise fail("give utterances as arguments or --input FILE (- for stdin)")
    if texts and input_file is not None:
        raise fail("give utterances as arguments or --input, not both")
    world = call(World.from_environment)  # under torchrun each rank tags its shard of the file
    if world.distributed and (input_file is None or str(input_file) == "-" or output is None):
        raise fail("under torchrun, predict shards a file: give --input FILE (not stdin) and --output OUT")
    arguments = call(check_arguments, texts or [])
    options = _options(
        device=device, batch_size=batch_size, threads=threads, gazetteers=gazetteer, max_chars=max_chars,
        max_tokens=max_tokens, values=values, timezone=timezone,
    )  # fmt: skip
    predictor = call(_predictor, model_dir, options)
    reference = call(predictor.reference_time, now, "--now") if values else None
    lines = read_lines(input_file, max_chars) if input_file is not None else iter(arguments)
    if world.distributed:
        from slotfill.parallel.sharding import count_lines, line_shard, shard_of

        lines = shard_of(lines, line_shard(world, call(count_lines, input_file), predictor.chunk_size))
    parses = predictor.parse_turns(
        turns_of(lines, requested_slot or (), str(input_file or "arguments")),
        alternatives=alternatives,
        min_confidence=min_confidence,
        min_intent_confidence=min_intent_confidence,
        now=reference,
    )
    if output is not None:
        from slotfill.parallel.sharding import write_output  # a file (filelock, atomic writes) only

        written = call(write_output, output, parses, world)
        if world.is_main and input_file is not None:
            stderr.print(f"{output}: written ({written:,} lines from rank 0 of {world.size})", soft_wrap=True)
        return
    show_progress = input_file is not None and not sys.stdout.isatty() and stderr.is_terminal
    call(_print_json_lines, parses, show_progress)


def _predictor(model_dir: Path, options: PredictorOptions) -> Any:
    from slotfill.predict import Predictor

    return Predictor.from_options(model_dir, options)


def _options(gazetteers: list[str] | None, max_chars: int, max_tokens: int, **given: Any) -> PredictorOptions:
    """A command's arguments as PredictorOptions (whose defaults are the command's)."""
    return PredictorOptions(**given, gazetteers=tuple(gazetteers or ()), limits=Limits(max_chars, max_tokens))


def tag(
    model_dir: ModelArgument,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = PredictorOptions.device,
    threads: ThreadsOption = None,
    gazetteer: GazetteerOption = None,
    max_chars: MaxCharsOption = Limits.max_chars,
    max_tokens: MaxTokensOption = Limits.max_tokens,
    alternatives: AlternativesOption = ParseOptions.alternatives,
    min_confidence: MinConfidenceOption = ParseOptions.min_confidence,
    min_intent_confidence: MinIntentConfidenceOption = ParseOptions.min_intent_confidence,
    now: NowOption = ParseOptions.now,
    timezone: TimezoneOption = PredictorOptions.timezone,
    values: ValuesOption = ParseOptions.values,
) -> None:
    """Tag sentences interactively: type a sentence, see its slots highlighted and listed.

    Each slot shows its confidence and its value; unsure ones (below 50%) are dimmed. `:ask SLOT ...`
    sets the slots the system just asked for (the dialogue context, shown in the prompt) for the
    sentences after it; `:ask` alone clears them. An empty line or Ctrl-D quits. When stdin is not a
    terminal, prints JSON lines like predict (its lines plain text or {"text", "context"} objects).

    Example:

      slotfill tag runs/demo
    """
    from slotfill.cli.streams import read_lines, turns_of

    options = _options(
        device=device, batch_size=1, threads=threads, gazetteers=gazetteer, max_chars=max_chars, max_tokens=max_tokens,
        values=values, timezone=timezone,
    )  # fmt: skip
    predictor = call(_predictor, model_dir, options)
    reference = call(predictor.reference_time, now, "--now") if values else None
    if not sys.stdin.isatty():
        options = {
            "alternatives": alternatives,
            "min_confidence": min_confidence,
            "min_intent_confidence": min_intent_confidence,
            "now": reference,
        }
        call(
            _print_json_lines, predictor.parse_turns(turns_of(read_lines(Path("-"), max_chars), (), "stdin"), **options)
        )
        return
    from slotfill.cli.line_editing import LineEditor
    from slotfill.cli.progress import SlotStyles

    out, style = Console(), SlotStyles(predictor.slot_types)
    out.print(
        "Type a sentence (Up/Down: earlier lines; Ctrl-C clears the line; an empty line or Ctrl-D quits; "
        ":ask SLOT sets what the system just asked).",
        style="dim",
    )
    requested: list[str] = []
    with LineEditor(out) as editor:
        _tag_loop(
            editor,
            predictor,
            style,
            requested,
            out,
            alternatives,
            min_confidence,
            min_intent_confidence,
            reference if now is not None else None,
        )


def _tag_loop(
    editor: Any, predictor: Any, style: Any, requested: list[str], out: Console,
    alternatives: int, min_confidence: float, min_intent_confidence: float | None, now: Any,
) -> None:  # fmt: skip
    """`tag`'s dialogue: read a line (edited, recalled), parse it, show it, until an empty line or Ctrl-D."""
    from slotfill.cli.progress import render_parse

    while True:
        try:
            text = editor.read(_prompt(requested))
        except EOFError:
            out.print()
            break
        except KeyboardInterrupt:  # Ctrl-C clears the line, as in a shell
            out.print()
            continue
        except UnicodeDecodeError:
            out.print("that line is not UTF-8; type it again", style="red")
            continue
        if not text.strip():
            break
        if text.split()[0] == ASK:
            requested = text.split()[1:]
            continue
        parsed = call(
            predictor.parse,
            text,
            context={"requested_slots": requested} if requested else None,
            alternatives=alternatives,
            min_confidence=min_confidence,
            min_intent_confidence=min_intent_confidence,
            now=now,  # without --now: each sentence at the time it is typed
        )
        for renderable in render_parse(parsed, style):
            out.print(renderable)


ASK = ":ask"  # `tag`'s command: the slots the system just asked for, until the next :ask


def _prompt(requested: list[str]) -> str:
    """`tag`'s prompt: the requested slots in it, where there are any."""
    from rich.markup import escape

    return f"[dim]\\[asked: {escape(' '.join(requested))}][/] [bold]> [/]" if requested else "[bold]> [/]"


def serve(
    model_dir: ModelArgument,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default 127.0.0.1 answers this machine only; 0.0.0.0 answers every "
            "network the machine is on, so anyone who can reach it can use the model: set an API key then."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = PredictorOptions.device,
    threads: ThreadsOption = None,
    max_text_chars: ServeMaxCharsOption = ServeLimits.max_text_chars,
    max_tokens: ServeMaxTokensOption = ServeLimits.max_tokens,
    max_batch: MaxBatchOption = ServeLimits.max_batch,
    keep_alive: KeepAliveOption = ServeLimits.keep_alive_s,
    shutdown_timeout: ShutdownTimeoutOption = ServeLimits.shutdown_timeout_s,
    read_timeout: ReadTimeoutOption = ServeLimits.read_timeout_s,
    api_key_file: Annotated[
        Optional[Path],
        typer.Option(
            help="A file holding the API key that every request but GET /health must send as 'Authorization: Bearer KEY' "
            "(401 without). Or set SLOTFILL_API_KEY. Never give the key itself on the command line."
        ),
    ] = None,
    allowed_host: Annotated[
        Optional[list[str]],
        typer.Option(
            help="A Host header to answer besides the address listened on (repeatable), e.g. the name a proxy "
            "forwards. Requests naming another host get 400, so a web page cannot reach the server by DNS rebinding."
        ),
    ] = None,
    gazetteer: GazetteerOption = None,
    timezone: TimezoneOption = PredictorOptions.timezone,
    values: ValuesOption = ParseOptions.values,
    log_requests: Annotated[
        Optional[Path],
        typer.Option(
            "--log-requests",
            help="Append each parsed text and its parse to FILE (JSON lines), e.g. for slotfill annotate. Off by "
            "default: the texts are what your users typed (personal data).",
        ),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="One line on stderr per request: method, path, status, milliseconds (never the text).",
        ),
    ] = True,
) -> None:
    """Serve the model over HTTP: POST /parse, POST /parse/batch, GET /health, docs at /docs, a page at /.

    Examples:

      slotfill serve runs/atis

      SLOTFILL_API_KEY=$(cat key.txt) slotfill serve runs/atis --host 0.0.0.0

      curl -s localhost:8000/parse -d '{"text": "leave Taipei on November 2nd"}'
    """
    import uvicorn

    from slotfill.serve.app import create_app
    from slotfill.serve.guard import ServeLimits, served_hosts

    api_key = call(_api_key, api_key_file)
    options = _options(
        device=device, threads=threads, gazetteers=gazetteer, max_chars=max_text_chars, max_tokens=max_tokens,
        values=values, timezone=timezone,
    )  # fmt: skip
    predictor = call(_predictor, model_dir, options)
    limits = ServeLimits(
        max_text_chars=max_text_chars, max_tokens=max_tokens, max_batch=max_batch, read_timeout_s=read_timeout,
        keep_alive_s=keep_alive, shutdown_timeout_s=shutdown_timeout,
    )  # fmt: skip
    guarded = "with an API key" if api_key else "without an API key"
    stderr.print(
        f"serving {model_dir} on http://{host}:{port} {guarded}  (docs: http://{host}:{port}/docs)", soft_wrap=True
    )
    served = call(
        create_app,
        predictor,
        limits,
        api_key,
        allowed_hosts=served_hosts(host, allowed_hosts=allowed_host or []),
        request_log=log_requests,
        access_log=access_log,
    )
    _plain_access_log()
    uvicorn.run(
        served,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=limits.keep_alive_s,  # idle keep-alive connections close
        timeout_graceful_shutdown=limits.shutdown_timeout_s,  # SIGTERM: open connections get this long, then the server stops
    )


def _plain_access_log() -> None:
    """The access log through a plain stream handler, not the rich one of slotfill's other logs:
    rich's costs about 650 µs a line on the event loop (measured), the plain one about 13 µs."""
    import logging

    access = logging.getLogger("slotfill.serve.access")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-8s %(message)s"))  # the rich one's shape
    access.handlers[:] = [handler]
    access.propagate = False


def _api_key(path: Path | None) -> str | None:
    """The key from --api-key-file (first line) or SLOTFILL_API_KEY; None for an open server."""

    from slotfill.errors import ConfigError

    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                key = handle.readline(4096).strip()  # the first line: a key file may end with more
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"--api-key-file {path}: cannot read ({error})") from None
        if not key:
            raise ConfigError(f"--api-key-file {path}: its first line is empty")
        return key
    if "SLOTFILL_API_KEY" not in os.environ:
        return None
    key = os.environ["SLOTFILL_API_KEY"].strip()
    if not key:  # `SLOTFILL_API_KEY=$(cat missing.txt)`: fail closed, never open
        raise ConfigError("SLOTFILL_API_KEY is set but empty: give the key, or unset it for a server without one")
    return key
