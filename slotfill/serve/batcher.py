"""One worker runs the model: requests that arrive together are tagged together, in steps of a
bounded number of tokens (the tokeniser's), smallest request first, so one huge batch cannot make a
one-sentence request wait behind all of it."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from slotfill.options import ServeLimits
from slotfill.predict import ParseOptions, Predictor
from slotfill.text.tokenise import count_tokens


@dataclass
class _Request:
    texts: list[str]
    future: Future[list[dict[str, Any]]]
    sizes: list[int]  # tokens of each text (the tokeniser's, + 1)
    options: ParseOptions  # a step holds requests of one kind
    contexts: list[dict[str, Any] | None]  # each text's dialogue context (None: none)
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

    def __init__(self, predictor: Predictor, tokens_per_step: int = ServeLimits.tokens_per_step) -> None:
        self.predictor, self.tokens_per_step = predictor, tokens_per_step
        self.requests: queue.Queue[_Request | None] = queue.Queue()
        self.worker = threading.Thread(target=self._run, name="slotfill-batcher", daemon=True)
        self.worker.start()

    def submit(
        self,
        texts: list[str],
        options: ParseOptions = ParseOptions(),
        contexts: list[dict[str, Any] | None] | None = None,
    ) -> Future[list[dict[str, Any]]]:
        """Parses of `texts` (each with its dialogue context from `contexts`, where given), in order."""
        future: Future[list[dict[str, Any]]] = Future()
        if not texts:
            future.set_result([])
            return future
        sizes = [count_tokens(text) + 1 for text in texts]
        self.requests.put(_Request(texts, future, sizes, options, contexts or [None] * len(texts)))
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
            taken = [(request, len(request.results), n) for request, n in chosen]
            texts = [t for request, start, n in taken for t in request.texts[start : start + n]]
            contexts = [c for request, start, n in taken for c in request.contexts[start : start + n]]
            options = chosen[0][0].options
            try:
                parsed = list(
                    self.predictor.parse_many(
                        texts,
                        contexts=contexts,
                        # each request's values are resolved against its own `now` (serve.app)
                        **asdict(replace(options, values=False)),
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
