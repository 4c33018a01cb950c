"""The HTTP JSON API (FastAPI): the same parses as `slotfill predict`, plus a page to try it.

    POST /parse        {"text": "..."}            -> one parse
    POST /parse/batch  {"texts": ["...", ...]}    -> {"results": [parse, ...]} in input order
    GET  /health                                  -> {"status": "ok", ...}  (also HEAD)
    GET  /docs                                    -> OpenAPI docs, served from an installed package (no CDN)
    GET  /                                        -> the HTML page (also HEAD)

Every request passes the `Guard` first: an API key (`Authorization: Bearer KEY`, compared in
constant time) on every path but /health when one is set; a body limit enforced while the body
is read, chunked or not; and a deadline for each piece of the body, so a client that sends half a
body and waits gets 408 instead of holding a connection. Texts over the character, token or batch
limits get 413; malformed bodies (also a lone surrogate or a NaN) get 422, never echoing the input.
One worker runs the model (`MicroBatcher`); requests that arrive together are tagged together, in
pieces of a bounded number of tokens, smallest request first, so one huge batch cannot make a
one-sentence request wait behind all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.middleware.trustedhost import TrustedHostMiddleware

from slotfill import __version__
from slotfill.errors import ConfigError, OutputError
from slotfill.options import ServeLimits
from slotfill.parses import Parse
from slotfill.predict import ParseOptions, Predictor
from slotfill.serve.batcher import MicroBatcher
from slotfill.serve.guard import AccessLog, Guard
from slotfill.serve.schemas import BatchRequest, BatchResponse, Context, Options, ParseRequest
from slotfill.text.tokenise import count_tokens


def _check_texts(predictor: Predictor, limits: ServeLimits, texts: list[str], names: list[str]) -> None:
    """413 for a text over the request limits, named as the request names it (`text`, `texts[3]`)."""
    tokens = 0
    for text, name in zip(texts, names):
        if len(text) > limits.max_text_chars:
            raise HTTPException(413, f"{name} has {len(text)} characters; the limit is {limits.max_text_chars}")
        reason = predictor.limit_error(text)
        if reason is not None:
            raise HTTPException(413, f"{name}: {reason}")
        tokens += count_tokens(text)  # the tokeniser's tokens: text without spaces counts what it is
    if tokens > limits.max_request_tokens:
        raise HTTPException(413, f"{tokens} tokens in one request; the limit is {limits.max_request_tokens}")


def _base_app(batcher: MicroBatcher) -> FastAPI:
    """The FastAPI app with its offline docs, its shutdown (the batcher's) and input-free 422s."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        batcher.close()

    app = FastAPIOffline(
        title="slotfill",
        version=__version__,
        description="Slot filling for dialogue utterances: tokens, BIO tags, slots with character offsets, intent.",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # the input is not echoed: it may be huge, or hold what JSON cannot encode (NaN, a lone surrogate)
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    return app


def public_description(described: dict[str, Any]) -> dict[str, Any]:
    """What GET /info shows: the model's description without this machine's absolute paths."""
    shown = copy.deepcopy(described)
    data = shown.get("config", {}).get("data", {})
    if data.get("dir"):
        data["dir"] = Path(data["dir"]).name
    for gazetteer in shown.get("gazetteers", []):
        gazetteer["source"] = re.sub(r"(?<![\w.])/[^\s,;]*/([^/\s,;]+)", r"\1", gazetteer.get("source") or "")
    return shown


class RequestLog:
    """`serve --log-requests FILE`: one JSON line per parsed text, {"time", "text", "parse"}, appended
    and flushed, for `slotfill annotate --input FILE`. Off by default: the texts are what users typed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open while serving
        except OSError as error:
            raise OutputError(f"--log-requests {self.path}: cannot write ({error.strerror})") from None

    def write(
        self, texts: Sequence[str], parses: Sequence[dict[str, Any]], contexts: Sequence[dict[str, Any] | None]
    ) -> None:
        """One line per text: the time, the text, the context it answered (where it had one), the parse."""
        import datetime
        import json

        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        lines = "".join(
            json.dumps({"time": now, "text": text, **({"context": context} if context else {}), "parse": parsed},
                       ensure_ascii=False) + "\n"
            for text, parsed, context in zip(texts, parses, contexts)
        )  # fmt: skip
        self.handle.write(lines)
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def create_app(
    predictor: Predictor,
    limits: ServeLimits = ServeLimits(),
    api_key: str | None = None,
    allowed_hosts: Sequence[str] = ("*",),
    request_log: Path | None = None,
    access_log: bool = True,
) -> Any:
    """The ASGI app: the FastAPI routes behind the Guard, behind the check of the Host header,
    behind the access log (one line per request, never its text) unless `access_log` is False."""
    batcher = MicroBatcher(predictor, tokens_per_step=limits.tokens_per_step)
    app = _base_app(batcher)
    _add_pages(app, predictor)
    _add_parsing(app, predictor, limits, batcher, RequestLog(request_log) if request_log is not None else None)
    served = TrustedHostMiddleware(Guard(app, limits, api_key), allowed_hosts=list(allowed_hosts))
    return AccessLog(served) if access_log else served


def _add_pages(app: FastAPI, predictor: Predictor) -> None:
    """GET / (the page to try the model), /favicon.ico, /health and /info."""
    static = resources.files("slotfill").joinpath("serve/static")
    page = static.joinpath("index.html").read_text(encoding="utf-8")
    icon = static.joinpath("favicon.svg").read_bytes()
    described = public_description(predictor.describe())

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    def favicon() -> Response:
        return Response(icon, media_type="image/svg+xml")

    @app.api_route("/health", methods=["GET", "HEAD"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "intent": predictor.has_intent}

    @app.get("/info")
    def info() -> dict[str, Any]:
        """What the model is: versions, intents, slot types, sizes, config, metrics, gazetteers."""
        return described


def _add_parsing(
    app: FastAPI, predictor: Predictor, limits: ServeLimits, batcher: MicroBatcher, log: RequestLog | None
) -> None:
    """POST /parse and /parse/batch: checked against the limits, tagged by the batcher's worker,
    valued against the request's own `now`, logged where the server keeps a request log."""

    async def parse_all(
        texts: list[str], options: Any, contexts: Sequence[Context | None] | None = None
    ) -> list[dict[str, Any]]:
        try:  # read before tagging: a bad `now` is the request's error
            now = predictor.reference_time(options.now) if options.values else None
        except ConfigError as error:
            raise HTTPException(422, str(error)) from None
        # `now` and `values` are this request's own (resolved above and below): a step of the batcher
        # tags together the requests whose other options agree
        parse_options = ParseOptions(**options.model_dump(include=set(Options.model_fields) - {"now", "values"}))
        given = [c.model_dump() if c is not None else None for c in contexts] if contexts is not None else None
        parses = await asyncio.wrap_future(batcher.submit(texts, parse_options, given))
        parses = parses if now is None else [predictor.add_values(parsed, now) for parsed in parses]
        if log is not None:
            log.write(texts, parses, given or [None] * len(texts))
        return parses

    @app.post("/parse", response_model=Parse, response_model_exclude_unset=True)
    async def parse(request: ParseRequest) -> dict[str, Any]:
        _check_texts(predictor, limits, [request.text], ["text"])
        return (await parse_all([request.text], request, [request.context]))[0]

    @app.post("/parse/batch", response_model=BatchResponse, response_model_exclude_unset=True)
    async def parse_batch(request: BatchRequest) -> dict[str, Any]:
        if len(request.texts) > limits.max_batch:
            raise HTTPException(413, f"batch of {len(request.texts)} texts; the limit is {limits.max_batch}")
        _check_texts(predictor, limits, request.texts, [f"texts[{i}]" for i in range(len(request.texts))])
        if request.contexts is not None and len(request.contexts) != len(request.texts):
            raise HTTPException(
                422, f"{len(request.contexts)} contexts for {len(request.texts)} texts: give one per text (null: none)"
            )
        return {"results": await parse_all(request.texts, request, request.contexts)}
