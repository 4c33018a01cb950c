"""Each parse, predictor and serve option is declared once (slotfill.options): the commands'
options and the server's request schema are derived from the declaration, and the parse a
Predictor returns is the declared type (slotfill.parses) that the server answers with."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import typer.main
from pydantic import TypeAdapter, ValidationError

from slotfill.cli.app import app
from slotfill.errors import ConfigError
from slotfill.options import Limits, ParseOptions, PredictorOptions, ServeLimits, declared
from slotfill.parses import Parse, ParseError
from slotfill.serve.schemas import Options, ParseRequest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _command_options(name: str) -> dict[str, Any]:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return {p.name: p for p in command.params if p.param_type_name == "option"}


@pytest.mark.parametrize("command", ["predict", "tag"])
def test_the_tagging_commands_take_their_options_from_the_declarations(command: str) -> None:
    options = _command_options(command)
    for declaration_of, name, parameter in [
        (ParseOptions, "alternatives", "alternatives"),
        (ParseOptions, "min_confidence", "min_confidence"),
        (ParseOptions, "min_intent_confidence", "min_intent_confidence"),
        (ParseOptions, "now", "now"),
        (ParseOptions, "values", "values"),
        (PredictorOptions, "timezone", "timezone"),
        (Limits, "max_chars", "max_chars"),
        (Limits, "max_tokens", "max_tokens"),
    ]:
        option, declaration = options[parameter], declared(declaration_of, name)
        assert option.help == declaration.help, name
        assert option.default == getattr(declaration_of, name), name
        if declaration.low is not None:
            assert (option.min, option.max) == (declaration.low, declaration.high), name
    assert "--no-values" in options["values"].secondary_opts  # 0.4's flag


def test_serve_takes_its_limits_from_the_declarations() -> None:
    options = _command_options("serve")
    for name, parameter in [
        ("max_text_chars", "max_text_chars"), ("max_tokens", "max_tokens"), ("max_batch", "max_batch"),
        ("read_timeout_s", "read_timeout"), ("keep_alive_s", "keep_alive"), ("shutdown_timeout_s", "shutdown_timeout"),
    ]:  # fmt: skip
        assert options[parameter].default == getattr(ServeLimits, name)
        assert options[parameter].help == declared(ServeLimits, name).help


def test_the_request_schema_is_the_parse_options() -> None:
    properties = Options.model_json_schema()["properties"]
    assert list(properties) == [f.name for f in dataclasses.fields(ParseOptions)]
    for field in dataclasses.fields(ParseOptions):
        declaration = declared(ParseOptions, field.name)
        shown = properties[field.name]
        assert shown["default"] == field.default and shown["description"] == declaration.help
    assert (properties["alternatives"]["minimum"], properties["alternatives"]["maximum"]) == (0, 10)
    with pytest.raises(ValidationError):
        ParseRequest(text="x", min_confidence=1.5)
    with pytest.raises(ConfigError, match=r"^min_confidence: 1.5 is not a number from 0 to 1$"):
        ParseOptions(min_confidence=1.5)
    with pytest.raises(ConfigError, match=r"^alternatives: 2.5 is not a whole number from 0 to 10$"):
        ParseOptions(alternatives=2.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^min_intent_confidence: nan is not a number from 0 to 1$"):
        ParseOptions(min_intent_confidence=float("nan"))


def test_every_parse_is_the_declared_type() -> None:
    """The frozen texts parsed with every optional key (alternatives, low_confidence, values):
    each parse validates as slotfill.parses.Parse and holds no key it does not declare."""
    from slotfill.predict import Predictor

    predictor = Predictor.load(FIXTURES / "model_v4", "cpu", limits=Limits(max_chars=100))
    texts = (FIXTURES / "parses" / "texts.txt").read_text(encoding="utf-8").splitlines()
    parses = list(predictor.parse_many(texts, alternatives=2, min_confidence=0.5, now="2026-12-07T09:00"))
    adapter, error_adapter = TypeAdapter(Parse), TypeAdapter(ParseError)
    declared_keys = set(Parse.__annotations__)
    seen: set[str] = set()
    errors = 0
    for parsed in parses:
        if "error" in parsed:
            assert error_adapter.validate_python(parsed, strict=True) == parsed
            errors += 1
            continue
        assert adapter.validate_python(parsed, strict=True) == parsed
        assert set(parsed) <= declared_keys
        seen |= set(parsed)
    assert errors > 0  # the long text of the file, over 100 characters
    assert seen == declared_keys - {"warnings"}  # every optional key met (no context was given)
