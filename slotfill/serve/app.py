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
import hmac
import json
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from slotfill import __version__
from slotfill.predict import ParseOptions, Predictor

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
OPEN_PATHS = ("/health",)
MAX_ALTERNATIVES = 10  # answered without the API key (load balancers' health checks)


@dataclass(frozen=True)
class Limits:
    max_text_chars: int = 5_000
    max_batch: int = 256
    max_body_bytes: int = 2_000_000
    max_request_tokens: int = 50_000  # all texts of one request together
    tokens_per_step: int = 4_096  # the most the model worker tags in one step, across requests
    read_timeout_s: float = 10.0  # the longest wait for the next piece of a request body


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate)") from None
    return text


Text = Annotated[str, AfterValidator(_utf8)]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alternatives: int = Field(0, ge=0, le=MAX_ALTERNATIVES, description="the k best intents and tag sequences")
    min_confidence: float = Field(0.0, ge=0.0, le=1.0, description="slots below it go to low_confidence")
    min_intent_confidence: float = Field(0.0, ge=0.0, le=1.0, description="an intent below it is null")


class ParseRequest(Options):
    text: Text


class BatchRequest(Options):
    texts: list[Text]


class Slot(BaseModel):
    slot: str
    text: str
    start: int
    end: int
    confidence: float


class AlternativeSlot(BaseModel):
    slot: str
    text: str
    start: int
    end: int


class RankedIntent(BaseModel):
    intent: str
    confidence: float


class Alternative(BaseModel):
    probability: float
    tags: list[str]
    slots: list[AlternativeSlot]


class Parse(BaseModel):
    text: str
    tokens: list[str]
    tags: list[str]
    slots: list[Slot]
    low_confidence: list[Slot] | None = None
    intent: str | None = None
    intent_confidence: float | None = None
    intents: list[RankedIntent] | None = None
    alternatives: list[Alternative] | None = None


class BatchResponse(BaseModel):
    results: list[Parse]


async def _send_json(
    send: Send, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode("utf-8")
    base = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Pure ASGI middleware in front of the app: API key, body size (read bounded), read deadline."""

    def __init__(self, app: Any, limits: Limits, api_key: str | None) -> None:
        self.app, self.limits = app, limits
        self.api_key = api_key.encode("utf-8") if api_key else None

    def _authorised(self, scope: Scope) -> bool:
        if self.api_key is None or scope["path"] in OPEN_PATHS:
            return True
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.api_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._authorised(scope):
            await _send_json(
                send,
                401,
                {"detail": "missing or wrong API key (Authorization: Bearer KEY)"},
                [(b"www-authenticate", b"Bearer")],
            )
            return
        limit = self.limits.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, {"detail": f"request body of {int(declared)} bytes; the limit is {limit}"})
            return
        body = bytearray()
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.limits.read_timeout_s)
            except asyncio.TimeoutError:
                await _send_json(send, 408, {"detail": f"no request body for {self.limits.read_timeout_s:g} s"})
                return
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _send_json(send, 413, {"detail": f"request body over {limit} bytes; the limit is {limit}"})
                return
            if not message.get("more_body"):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then waits for the client as usual."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


@dataclass
class _Request:
    texts: list[str]
    future: Future[list[dict[str, Any]]]
    sizes: list[int]  # tokens of each text (estimated: words + 1)
    options: ParseOptions  # a step holds requests of one kind
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return sum(self.sizes[len(self.results) :])


class MicroBatcher:
    """One worker thread runs the model; concurrent requests queue up and are tagged together.

    torch already uses every core for one batch, so parsing requests one after another in many
    threads would only oversubscribe them. Each step the worker takes what is waiting, smallest
    remaining request first, up to `tokens_per_step` tokens (and at least one text), so a huge
    request is tagged in pieces between the small ones. Results come back through futures, in
    each request's own order; an error fails the requests of that step only."""

    def __init__(self, predictor: Predictor, tokens_per_step: int = 4_096) -> None:
        self.predictor, self.tokens_per_step = predictor, tokens_per_step
        self.requests: queue.Queue[_Request | None] = queue.Queue()
        self.worker = threading.Thread(target=self._run, name="slotfill-batcher", daemon=True)
        self.worker.start()

    def submit(self, texts: list[str], options: ParseOptions = ParseOptions()) -> Future[list[dict[str, Any]]]:
        future: Future[list[dict[str, Any]]] = Future()
        if not texts:
            future.set_result([])
            return future
        self.requests.put(_Request(texts, future, [len(text.split()) + 1 for text in texts], options))
        return future

    def close(self) -> None:
        self.requests.put(None)
        self.worker.join()

    def _take_waiting(self, pending: list[_Request]) -> bool:
        """Move queued requests into `pending` (waiting for one if there is none); False once closed."""
        while True:
            try:
                item = self.requests.get(block=not pending)
            except queue.Empty:
                return True
            if item is None:
                return False
            pending.append(item)

    def _step(self, pending: list[_Request]) -> list[tuple[_Request, int]]:
        """(request, number of its next texts) to tag now: smallest remaining first, within the token budget."""
        chosen, budget = [], self.tokens_per_step
        ordered = sorted(pending, key=lambda r: r.remaining)
        for request in (r for r in ordered if r.options == ordered[0].options):
            start = count = len(request.results)
            while count < len(request.texts) and (request.sizes[count] <= budget or (not chosen and count == start)):
                budget -= request.sizes[count]
                count += 1
            if count > start:
                chosen.append((request, count - start))
            if budget <= 0:
                break
        return chosen

    def _run(self) -> None:
        pending: list[_Request] = []
        open_ = True
        while open_ or pending:
            if open_:
                open_ = self._take_waiting(pending)
            if not pending:
                continue
            chosen = self._step(pending)
            texts = [t for request, n in chosen for t in request.texts[len(request.results) : len(request.results) + n]]
            options = chosen[0][0].options
            try:
                parsed = list(
                    self.predictor.parse_many(
                        texts,
                        alternatives=options.alternatives,
                        min_confidence=options.min_confidence,
                        min_intent_confidence=options.min_intent_confidence,
                    )
                )
            except Exception as error:  # noqa: BLE001 - handed to the requests of this step
                for request, _ in chosen:
                    request.future.set_exception(error)
                    pending.remove(request)
                continue
            at = 0
            for request, n in chosen:
                request.results += parsed[at : at + n]
                at += n
                if len(request.results) == len(request.texts):
                    request.future.set_result(request.results)
                    pending.remove(request)


def _check_texts(predictor: Predictor, limits: Limits, texts: list[str], names: list[str]) -> None:
    """413 for a text over the request limits, named as the request names it (`text`, `texts[3]`)."""
    tokens = 0
    for text, name in zip(texts, names):
        if len(text) > limits.max_text_chars:
            raise HTTPException(413, f"{name} has {len(text)} characters; the limit is {limits.max_text_chars}")
        reason = predictor.limit_error(text)
        if reason is not None:
            raise HTTPException(413, f"{name}: {reason}")
        tokens += len(text.split())
    if tokens > limits.max_request_tokens:
        raise HTTPException(413, f"{tokens} words in one request; the limit is {limits.max_request_tokens}")


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


def create_app(predictor: Predictor, limits: Limits = Limits(), api_key: str | None = None) -> Any:
    """The ASGI app: the FastAPI routes behind the Guard."""
    batcher = MicroBatcher(predictor, tokens_per_step=limits.tokens_per_step)
    app = _base_app(batcher)
    page = resources.files("slotfill").joinpath("serve/static/index.html").read_text(encoding="utf-8")
    described = predictor.describe()

    async def parse_all(texts: list[str], options: Options) -> list[dict[str, Any]]:
        parse_options = ParseOptions(options.alternatives, options.min_confidence, options.min_intent_confidence)
        return await asyncio.wrap_future(batcher.submit(texts, parse_options))

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.api_route("/health", methods=["GET", "HEAD"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "intent": predictor.has_intent}

    @app.get("/info")
    def info() -> dict[str, Any]:
        """What the model is: versions, intents, slot types, sizes, config, metrics, gazetteers."""
        return described

    @app.post("/parse", response_model=Parse, response_model_exclude_unset=True)
    async def parse(request: ParseRequest) -> dict[str, Any]:
        _check_texts(predictor, limits, [request.text], ["text"])
        return (await parse_all([request.text], request))[0]

    @app.post("/parse/batch", response_model=BatchResponse, response_model_exclude_unset=True)
    async def parse_batch(request: BatchRequest) -> dict[str, Any]:
        if len(request.texts) > limits.max_batch:
            raise HTTPException(413, f"batch of {len(request.texts)} texts; the limit is {limits.max_batch}")
        _check_texts(predictor, limits, request.texts, [f"texts[{i}]" for i in range(len(request.texts))])
        return {"results": await parse_all(request.texts, request)}

    return Guard(app, limits, api_key)
