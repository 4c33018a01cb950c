"""The HTTP JSON API (FastAPI): the same parses as `slotfill predict`, plus a page to try it.

    POST /parse        {"text": "..."}            -> one parse
    POST /parse/batch  {"texts": ["...", ...]}    -> {"results": [parse, ...]} in input order
    GET  /health                                  -> {"status": "ok", ...}
    GET  /docs                                    -> OpenAPI docs;  GET / -> the HTML page

Texts longer than `max_text_chars`, batches larger than `max_batch` and request bodies larger than
`max_body_bytes` get 413 with a message saying the limit; malformed bodies get 422.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Future
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict

from slotfill import __version__
from slotfill.predict import Predictor


@dataclass(frozen=True)
class Limits:
    max_text_chars: int = 5_000
    max_batch: int = 256
    max_body_bytes: int = 2_000_000


class ParseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str]


class Slot(BaseModel):
    slot: str
    text: str
    start: int
    end: int


class Parse(BaseModel):
    text: str
    tokens: list[str]
    tags: list[str]
    slots: list[Slot]
    intent: str | None = None
    intent_confidence: float | None = None


class BatchResponse(BaseModel):
    results: list[Parse]


class MicroBatcher:
    """One worker thread runs the model; concurrent requests queue up and are tagged together.

    torch already uses every core for one batch, so parsing requests one after another in many
    threads would only oversubscribe them; batching what arrived meanwhile amortises the per-call
    cost instead. Results come back through futures, in each request's own order."""

    def __init__(self, predictor: Predictor, max_batch: int = 256) -> None:
        self.predictor, self.max_batch = predictor, max_batch
        self.requests: queue.Queue[tuple[list[str], Future[list[dict[str, Any]]]] | None] = queue.Queue()
        self.worker = threading.Thread(target=self._run, name="slotfill-batcher", daemon=True)
        self.worker.start()

    def submit(self, texts: list[str]) -> Future[list[dict[str, Any]]]:
        future: Future[list[dict[str, Any]]] = Future()
        self.requests.put((texts, future))
        return future

    def close(self) -> None:
        self.requests.put(None)
        self.worker.join()

    def _run(self) -> None:
        while True:
            first = self.requests.get()
            if first is None:
                return
            waiting, size = [first], len(first[0])
            while size < self.max_batch:
                try:
                    item = self.requests.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.requests.put(None)  # stop after this batch
                    break
                waiting.append(item)
                size += len(item[0])
            texts = [text for request_texts, _ in waiting for text in request_texts]
            try:
                parsed = list(self.predictor.parse_many(texts))
            except Exception as error:  # noqa: BLE001 - handed to every waiting request
                for _, future in waiting:
                    future.set_exception(error)
                continue
            at = 0
            for request_texts, future in waiting:
                future.set_result(parsed[at : at + len(request_texts)])
                at += len(request_texts)


def create_app(predictor: Predictor, limits: Limits = Limits()) -> FastAPI:
    batcher = MicroBatcher(predictor, max_batch=max(limits.max_batch, 1))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        batcher.close()

    app = FastAPI(
        title="slotfill",
        version=__version__,
        description="Slot filling for dialogue utterances: tokens, BIO tags, slots with character offsets, intent.",
        lifespan=lifespan,
    )
    page = resources.files("slotfill").joinpath("static/index.html").read_text(encoding="utf-8")

    def check_text(text: str, where: str) -> None:
        if len(text) > limits.max_text_chars:
            raise HTTPException(413, f"{where} has {len(text)} characters; the limit is {limits.max_text_chars}")

    async def parse_all(texts: list[str]) -> list[dict[str, Any]]:
        return await asyncio.wrap_future(batcher.submit(texts))

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_body_bytes:
            return JSONResponse(
                {"detail": f"request body of {length} bytes; the limit is {limits.max_body_bytes}"}, status_code=413
            )
        return await call_next(request)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "intent": predictor.has_intent}

    @app.post("/parse", response_model=Parse, response_model_exclude_none=False)
    async def parse(request: ParseRequest) -> dict[str, Any]:
        check_text(request.text, "text")
        return (await parse_all([request.text]))[0]

    @app.post("/parse/batch", response_model=BatchResponse)
    async def parse_batch(request: BatchRequest) -> dict[str, Any]:
        if len(request.texts) > limits.max_batch:
            raise HTTPException(413, f"batch of {len(request.texts)} texts; the limit is {limits.max_batch}")
        for index, text in enumerate(request.texts):
            check_text(text, f"texts[{index}]")
        return {"results": await parse_all(request.texts)}

    return app
