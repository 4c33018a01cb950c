"""The options of the commands that tag (`predict`, `tag`, `serve`), derived from their one
declaration in slotfill.options: help and bounds come from there, and each command's default is
the declared default (`ParseOptions.alternatives`, ...). What only the command line has (how a
gazetteer or a requested slot is given) is declared here."""

from typing import Annotated, Any, Optional

import typer

from slotfill.options import Limits, ParseOptions, PredictorOptions, ServeLimits, declared


def declared_option(options: type, name: str, flag: str | None = None, **given: Any) -> Any:
    """The typer option of option `name` of `options` (a dataclass of slotfill.options): its flag
    (`--min-confidence`, or `flag`), help and bounds as declared."""
    declaration = declared(options, name)
    bounds = {key: value for key, value in (("min", declaration.low), ("max", declaration.high)) if value is not None}
    return typer.Option(flag or "--" + name.replace("_", "-"), help=declaration.help, **bounds, **given)


AlternativesOption = Annotated[int, declared_option(ParseOptions, "alternatives")]
MinConfidenceOption = Annotated[float, declared_option(ParseOptions, "min_confidence")]
MinIntentConfidenceOption = Annotated[Optional[float], declared_option(ParseOptions, "min_intent_confidence")]
NowOption = Annotated[Optional[str], declared_option(ParseOptions, "now", metavar="ISO-8601")]
ValuesOption = Annotated[bool, declared_option(ParseOptions, "values", "--values/--no-values")]
TimezoneOption = Annotated[Optional[str], declared_option(PredictorOptions, "timezone", metavar="ZONE")]
BatchSizeOption = Annotated[int, declared_option(PredictorOptions, "batch_size")]
MaxCharsOption = Annotated[int, declared_option(Limits, "max_chars")]
MaxTokensOption = Annotated[int, declared_option(Limits, "max_tokens")]
ServeMaxCharsOption = Annotated[int, declared_option(ServeLimits, "max_text_chars")]
ServeMaxTokensOption = Annotated[int, declared_option(ServeLimits, "max_tokens")]
MaxBatchOption = Annotated[int, declared_option(ServeLimits, "max_batch")]
ReadTimeoutOption = Annotated[float, declared_option(ServeLimits, "read_timeout_s", "--read-timeout")]
KeepAliveOption = Annotated[float, declared_option(ServeLimits, "keep_alive_s", "--keep-alive")]
ShutdownTimeoutOption = Annotated[float, declared_option(ServeLimits, "shutdown_timeout_s", "--shutdown-timeout")]
GazetteerOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--gazetteer",
        help="NAME=FILE adds FILE's entries (one a line, '|' before aliases, '#' comments) to the model's list NAME; "
        "NAME=FILE:replace replaces the list. No retraining. Repeatable.",
    ),
]
RequestedSlotOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--requested-slot",
        metavar="SLOT",
        help="A slot the system just asked for (the dialogue context: after 'for how many people?', "
        "--requested-slot people). Repeatable; applies to every utterance without a context of its own.",
    ),
]
