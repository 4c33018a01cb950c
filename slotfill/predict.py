"""Raw text in, JSON-ready parses out: tokens with character offsets, slots with their confidence,
the intent, and on request the k best alternatives. The model runs in slotfill.decoding.tagging."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from slotfill.data.context import NO_CONTEXT, Context, context_from_json
from slotfill.decoding.tagging import Tagged, tag_token_lists
from slotfill.decoding.types import Decoding, Model, Rejection
from slotfill.errors import ConfigError
from slotfill.export.loading import load_any_model
from slotfill.features.gazetteer import GazetteerUpdate
from slotfill.features.patterns import PatternSet
from slotfill.options import BATCH_SIZE, Limits, ParseOptions, PredictorOptions
from slotfill.parses import Parse, ParseError, Slot
from slotfill.store.info import describe, slot_types
from slotfill.text import bio
from slotfill.text.tokenise import Token, tokenise
from slotfill.values.clock import reference_time, zone
from slotfill.values.places import Places
from slotfill.values.resolve import ValueResolver

CHUNK_BATCHES = 8  # batches per chunk of parse_many: enough to sort by length, little memory
log = logging.getLogger(__name__)
ContextLike = Context | Mapping[str, Any] | None  # a Context, its JSON ({"requested_slots": [...]}), or none


def as_context(value: ContextLike) -> Context:
    """A turn's context from what a caller gives; DataError (one line) for a malformed one."""
    if value is None or isinstance(value, Context):
        return value or NO_CONTEXT
    return context_from_json(dict(value) if isinstance(value, Mapping) else value, "context")


class Predictor:
    """Raw text in, slots out: `{"text", "tokens", "tags", "slots": [{"slot", "text", "start", "end",
    "confidence", "value"}], "frame", "intent", "intent_confidence"}` (and `intents`, `alternatives`,
    `low_confidence` on request; `value` where a slot's text resolves, docs/values.md;
    `rejected` where the utterance is out of the model's scope, docs/out-of-scope.md)."""

    def __init__(
        self,
        loaded: Model,
        batch_size: int = BATCH_SIZE,
        gazetteers: Iterable[GazetteerUpdate] = (),
        limits: Limits = Limits(),
        values: bool = True,
        timezone: str | None = None,
    ) -> None:
        self.loaded, self.batch_size, self.limits = loaded, batch_size, limits
        self.decoder = loaded.decoder
        self.has_intent = self.decoder.has_intent
        self.gazetteers = loaded.gazetteers.updated(gazetteers)
        zone(timezone)  # a ConfigError for a zone that does not exist, before any parse
        self.timezone = timezone  # the zone `now` is read (or moved) into; None: the machine's, offsets kept
        self.values = self._value_resolver(None) if values else None
        # the model's rejection of out-of-scope utterances (none without an intent head)
        self.rejection = loaded.rejection if self.has_intent else Rejection()
        self._warnings_given: set[str] = set()  # the context warnings logged already (once each)

    @classmethod
    def load(
        cls,
        model_dir: Path,
        device: str = "auto",
        batch_size: int = BATCH_SIZE,
        gazetteers: Iterable[GazetteerUpdate] = (),
        limits: Limits = Limits(),
        threads: int | None = None,
        values: bool = True,
        timezone: str | None = None,
    ) -> Predictor:
        """`gazetteers`: entries to add to the model's lists (or replace them with), e.g.
        `[GazetteerUpdate.from_spec("city=new_cities.txt")]`; the model is not retrained.
        `threads`: the CPU threads the network runs on while this predictor tags (None: the
        runtime's default, one per core); parses are the same on any number. `values`: resolve
        slot values (the model's `values:` rules); `timezone`: an IANA name (None: the machine's)."""
        return cls(load_any_model(model_dir, device, threads), batch_size, gazetteers, limits, values, timezone)

    @classmethod
    def from_options(cls, model_dir: Path, options: PredictorOptions) -> Predictor:
        """The predictor `options` describe; a bad time zone or gazetteer spec raises before the model loads."""
        zone(options.timezone)
        updates = [GazetteerUpdate.from_spec(spec) for spec in options.gazetteers]
        return cls.load(
            model_dir, options.device, options.batch_size, updates, options.limits, options.threads,
            options.values, options.timezone,
        )  # fmt: skip

    def _rejection(self, options: ParseOptions) -> Rejection:
        """The model's rejection, its threshold replaced by `min_intent_confidence` where given."""
        if options.min_intent_confidence is None:
            return self.rejection
        return replace(self.rejection, threshold=options.min_intent_confidence)

    def _value_resolver(self, places: Places | None) -> ValueResolver:
        """The model's `values:` rules over the current lists; `places`: indexes already built, kept."""
        config = self.loaded.config
        claims = {slot: name for name, source in config.gazetteers.items() for slot in source.slots}
        return ValueResolver(config.values, self.gazetteers, claims, places)

    @property
    def intents(self) -> list[str]:
        """The intents the model can answer (empty without an intent head)."""
        return list(self.loaded.vocab.intents.items) if self.has_intent else []

    @property
    def slot_types(self) -> list[str]:
        """The slot labels the model can tag, sorted."""
        return slot_types(self.loaded.vocab.tags.items)

    @property
    def metrics(self) -> dict[str, Any]:
        """The metrics the model was saved with (dev, test, calibration, ...)."""
        return dict(self.loaded.metrics)

    def describe(self) -> dict[str, Any]:
        """What `slotfill info` prints: versions, labels, sizes, config, metrics, gazetteers."""
        return describe(self.loaded)

    @property
    def chunk_size(self) -> int:
        """Texts tagged together by `parse_many` (its batches are cut from these, sorted by length)."""
        return self.batch_size * CHUNK_BATCHES

    def limit_error(self, text: str) -> str | None:
        """Why `text` is too long to tag, or None."""
        return self._tokens_within_limits(text)[1]

    def _tokens_within_limits(self, text: str) -> tuple[list[Token], str | None]:
        """The tokens of `text`, or why it is too long (then never tokenised past the limit)."""
        limits = self.limits
        if len(text) > limits.max_chars:
            return [], f"{len(text):,} characters; the limit is {limits.max_chars:,}"
        tokens = tokenise(text, limits.max_tokens + 1, self.loaded.vocab.tokenisation)  # the model's own rules
        if len(tokens) > limits.max_tokens:
            return [], f"more than {limits.max_tokens:,} tokens; the limit is {limits.max_tokens:,}"
        return tokens, None

    def rank_by_doubt(self, texts: Iterable[str], measure: str | None = None) -> list[dict[str, Any]]:
        """`texts` as [{"index", "text", "doubt"}], the ones whose parse the model is least sure of
        first (slotfill.annotation.doubt: `sequence`, the default, or `slot`)."""
        from slotfill.annotation.doubt import DOUBT_DEFAULT, DOUBTS, ranked

        measure = measure or DOUBT_DEFAULT
        if measure not in DOUBTS:
            raise ConfigError(f"doubt {measure!r}: expected one of {', '.join(DOUBTS)}")
        texts = list(texts)
        return ranked(texts, self.parse_many(texts, alternatives=1, values=False), measure)

    def update_gazetteers(self, updates: Iterable[GazetteerUpdate]) -> None:
        """Add entries to (or replace) the model's lists from now on."""
        self.gazetteers = self.gazetteers.updated(updates)
        if self.values is not None:
            self.values = self._value_resolver(self.values.places)

    def reference_time(self, now: str | datetime | None = None, where: str = "now") -> datetime:
        """`now` (ISO 8601 text or datetime; None: the current time) in this predictor's time zone;
        a bad text is a ConfigError naming `where`."""
        return reference_time(now, self.timezone, where)

    def add_values(self, parsed: Parse, now: datetime) -> Parse:
        """`parsed` with each resolvable slot's `value` and the parse's `frame` (docs/values.md)."""
        if self.values is None or "slots" not in parsed:
            return parsed
        resolver = self.values

        def valued(slots: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
            values, frame = resolver.resolve(slots, now)
            return [
                {**slot, "value": value} if value is not None else slot for slot, value in zip(slots, values)
            ], frame

        with_values: dict[str, Any] = {}
        frame: dict[str, Any] = {}
        for key, item in parsed.items():
            if key == "slots":
                with_values[key], frame = valued(item)
            elif key == "low_confidence":
                with_values[key] = valued(item)[0]
            elif key == "alternatives":  # each reading's slots, valued as that reading's own
                with_values[key] = [{**reading, "slots": valued(reading["slots"])[0]} for reading in item]
            else:
                with_values[key] = item
            if key == ("low_confidence" if "low_confidence" in parsed else "slots"):
                with_values["frame"] = frame
        return cast(Parse, with_values)  # the keys of `parsed`, in order, with `frame` after the slots

    def parse(self, text: str, *, context: ContextLike = None, **options: Any) -> Parse | ParseError:
        """One text, exactly as given (`parse_many` also drops a line ending); `context` and the
        `options` (alternatives, min_confidence, min_intent_confidence, now, values) as in `parse_many`."""
        chosen = ParseOptions(**options)
        return next(self._parse_chunk([text], chosen, self._now_for(chosen), [as_context(context)]))

    def _now_for(self, options: ParseOptions) -> datetime | None:
        return self.reference_time(options.now) if options.values and self.values is not None else None

    def parse_many(
        self,
        texts: Iterable[str],
        chunk_size: int | None = None,
        *,
        contexts: Iterable[ContextLike] | None = None,
        **options: Any,
    ) -> Iterator[Parse | ParseError]:
        """Parse a stream of texts chunk by chunk (constant memory), yielding in input order.

        `contexts`, one per text (None: none), is the dialogue state each text answers: a
        slotfill.data.context.Context or its JSON, `{"requested_slots": ["people"]}` (the slots
        the system just asked for; docs/dialogue-context.md). A model trained with context reads
        them; a slot it does not know, or any context given to a model trained without, is left
        out of the parse with a `warnings` entry (and one logged warning), never an error.

        `options` are those of slotfill.options.ParseOptions (defaults and bounds there):
        `alternatives` k > 0 adds the k best intents and tag sequences; slots below
        `min_confidence` move from `slots` to `low_confidence`. An utterance outside the model's
        intents is rejected: `intent` null and `rejected` its reason ("out_of_scope",
        "ambiguous"), its slots kept; `min_intent_confidence` replaces the model's threshold
        (None: the model's, fitted on dev; 0: none, only the out-of-scope class rejects).
        Slot values resolve against `now` (ISO 8601 text or datetime, read in the predictor's
        time zone when it has no offset; None: the time of this call), the same for the whole
        stream; `values=False` leaves them out (as does a predictor made with `values=False`).
        A line ending ("\n", "\r\n") is not part of a text: `parse_many(open(path))` gives what
        `slotfill predict --input path` prints."""
        turns = zip(texts, contexts if contexts is not None else itertools.repeat(None))
        yield from self.parse_turns(turns, chunk_size, **options)

    def parse_turns(
        self, turns: Iterable[tuple[str, ContextLike]], chunk_size: int | None = None, **options: Any
    ) -> Iterator[Parse | ParseError]:
        """`parse_many` of dialogue turns: (text, context) pairs, read as they come."""
        chosen = ParseOptions(**options)
        reference = self._now_for(chosen)
        chunk_size = chunk_size or self.chunk_size
        chunk: list[str] = []
        chunk_contexts: list[Context] = []
        for text, context in turns:
            chunk.append(text[:-2] if text.endswith("\r\n") else text.removesuffix("\n"))
            chunk_contexts.append(as_context(context))
            if len(chunk) == chunk_size:
                yield from self._parse_chunk(chunk, chosen, reference, chunk_contexts)
                chunk, chunk_contexts = [], []
        if chunk:
            yield from self._parse_chunk(chunk, chosen, reference, chunk_contexts)

    def _parse_chunk(
        self, texts: list[str], options: ParseOptions, now: datetime | None, contexts: list[Context]
    ) -> Iterator[Parse | ParseError]:
        """Parses in input order; a text over the limits gets `{"error": ...}` in its place."""
        decoding = Decoding(self.loaded.temperature, options.alternatives, rejection=self._rejection(options))
        checked = [self._tokens_within_limits(text) for text in texts]
        token_lists = [[t.norm for t in tokens] for tokens, error in checked if error is None]
        read = [self._read_context(context) for context in contexts]
        loaded = self.loaded
        tagged = iter(
            tag_token_lists(
                self.decoder,
                loaded.vocab,
                token_lists,
                self.batch_size,
                gazetteers=self.gazetteers,
                decoding=decoding,
                contexts=[context for (context, _), (_, error) in zip(read, checked) if error is None],
            )
        )
        for text, (tokens, error), (_, warnings) in zip(texts, checked, read):
            if error is not None:
                yield {"error": error}
                continue
            parsed = self._parsed(text, tokens, next(tagged), options)
            if warnings:
                parsed["warnings"] = warnings
            yield parsed if now is None else self.add_values(parsed, now)

    def _read_context(self, context: Context) -> tuple[Context, list[str]]:
        """The part of `context` the model reads, and a warning for each part it cannot (logged
        once per predictor and kind, returned with every parse it concerns)."""
        if not context:
            return context, []
        known = self.loaded.vocab.requested
        if not len(known):
            return NO_CONTEXT, [
                self._warned("this model was trained without dialogue context: the requested slots are not read")
            ]
        unknown = [name for name in context.requested_slots if name not in known]
        if not unknown:
            return context, []
        kept = Context(tuple(name for name in context.requested_slots if name not in unknown))
        slots = ", ".join(known.items)
        return kept, [
            self._warned(f"requested slot {name!r} is not a slot of this model (its slots: {slots}): parsed without it")
            for name in unknown
        ]

    def _warned(self, warning: str) -> str:
        """`warning`, logged the first time this predictor meets it."""
        if warning not in self._warnings_given:
            self._warnings_given.add(warning)
            log.warning("%s", warning)
        return warning

    def _parsed(self, text: str, tokens: list[Token], result: Tagged, options: ParseOptions) -> Parse:
        min_confidence = options.min_confidence
        slots = [
            {**slot, "confidence": round(confidence, 4)}
            for slot, confidence in zip(_slots(text, tokens, result.slots), result.slot_confidences)
        ]
        tags = result.tags
        if len(self.gazetteers.patterns):  # extractors fill their slot where the model found none
            slots, tags = _with_extracted(text, tokens, slots, tags, self.gazetteers.patterns)
        parsed: Parse = {
            "text": text,
            "tokens": [t.text for t in tokens],
            "tags": tags,
            "slots": [slot for slot in slots if slot["confidence"] >= min_confidence],
        }
        if min_confidence > 0:
            parsed["low_confidence"] = [slot for slot in slots if slot["confidence"] < min_confidence]
        if self.has_intent:
            parsed["intent"] = None if result.rejected else result.intent
            parsed["intent_confidence"] = (
                None if result.intent_confidence is None else round(result.intent_confidence, 4)
            )
            if result.rejected:  # its slots stay: a caller may still want them
                parsed["rejected"] = result.rejected
        if result.intents is not None:
            parsed["intents"] = [{"intent": intent, "confidence": round(p, 4)} for intent, p in result.intents]
        if result.alternatives is not None:
            parsed["alternatives"] = [
                {"probability": round(p, 4), "tags": tags, "slots": _slots(text, tokens, bio.spans(tags))}
                for tags, p in result.alternatives
            ]
        return parsed


def _with_extracted(
    text: str, tokens: list[Token], slots: list[Slot], tags: list[str], patterns: PatternSet
) -> tuple[list[Slot], list[str]]:
    """The slots and tags with each extractor pattern's matches that overlap no slot: a slot of
    confidence 1 over the match's characters, its tokens tagged B-/I- (slotfill.features.patterns)."""
    taken = [(slot["start"], slot["end"]) for slot in slots]
    tags = list(tags)
    for slot_type, start, end in patterns.extracted(text, taken):
        covered = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
        if not covered or any(tags[i] != "O" for i in covered):
            continue
        start, end = min(start, tokens[covered[0]].start), max(end, tokens[covered[-1]].end)
        slots.append({"slot": slot_type, "text": text[start:end], "start": start, "end": end, "confidence": 1.0})
        for n, i in enumerate(covered):
            tags[i] = f"{'I' if n else 'B'}-{slot_type}"
    return sorted(slots, key=lambda slot: slot["start"]), tags


def _slots(text: str, tokens: list[Token], spans: list[bio.Span]) -> list[Slot]:
    """Slots over tokens as the exact substrings of `text`, with character offsets."""
    slots = []
    for span in spans:
        start, end = tokens[span.start].start, tokens[span.end - 1].end
        slots.append(Slot(slot=span.label, text=text[start:end], start=start, end=end))
    return slots
