"""The real HTTP server on 127.0.0.1, spoken to over HTTP, and its page driven in headless Chromium."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ..conftest import DEMO, ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(model: Path, *options: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "slotfill.cli",
        "serve",
        str(model),
        "--port",
        str(port),
        "--device",
        "cpu",
        *options,
    ]
    # stderr goes to a file: the access log writes a line per request, which would fill a pipe nobody reads
    log = tempfile.NamedTemporaryFile("w+", prefix="slotfill-serve-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True, env=env)
    process.log_path = Path(log.name)  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).read()
            return process, url
        except OSError:
            assert process.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def server(trained_run: Path) -> Iterator[str]:
    options = (
        "--max-text-chars",
        "500",
        "--max-batch",
        "8",
        "--max-tokens",
        "60",
        "--read-timeout",
        "1",
        "--keep-alive",
        "1",
    )
    process, url = start_server(trained_run, *options)
    yield url
    process.terminate()
    process.wait(timeout=30)


KEY = "s3cret-key-of-the-test"


@pytest.fixture(scope="module")
def secured(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    key_file = tmp_path_factory.mktemp("key") / "key.txt"
    key_file.write_text(KEY + "\n")
    process, url = start_server(trained_run, "--api-key-file", str(key_file))
    yield url
    process.terminate()
    process.wait(timeout=30)


def call(
    url: str, body: object | bytes | None = None, method: str = "POST", headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_parse_returns_what_predict_prints(server: str, trained_run: Path) -> None:
    from slotfill.predict import Predictor

    status, parsed = call(server + "/parse", {"text": "leave Taipei on November 2nd", "now": NOW})
    assert status == 200
    assert parsed == Predictor.load(trained_run, "cpu").parse("leave Taipei on November 2nd", now=NOW)
    assert {k: v for k, v in parsed["slots"][0].items() if k not in ("confidence", "value")} == {
        "slot": "fromloc.city_name",
        "text": "Taipei",
        "start": 6,
        "end": 12,
    }
    assert 0 < parsed["slots"][0]["confidence"] <= 1


NOW = "2026-12-01T09:00:00+00:00"


def test_values_resolve_against_the_requests_now(server: str) -> None:
    text = "leave Taipei on November 2nd"
    _, parsed = call(server + "/parse", {"text": text, "now": NOW})
    assert parsed["frame"]["depart_date"] == {"kind": "date", "date": "2027-11-02"}
    assert parsed["frame"]["fromloc"] == {"kind": "city", "name": "Taipei", "country": "TW", "codes": ["TPE", "TSA"]}
    _, later = call(server + "/parse", {"text": text, "now": "2027-11-03T09:00:00+00:00"})
    assert later["frame"]["depart_date"] == {"kind": "date", "date": "2028-11-02"}
    _, batch = call(server + "/parse/batch", {"texts": [text, "fly to boston"], "now": NOW})
    assert batch["results"][0] == parsed
    _, bare = call(server + "/parse", {"text": text, "values": False})
    assert "frame" not in bare and all("value" not in slot for slot in bare["slots"])
    status, error = call(server + "/parse", {"text": text, "now": "next tuesday"})
    assert status == 422 and error == {
        "detail": "now 'next tuesday': not an ISO 8601 date and time (e.g. 2026-12-01T09:00 or 2026-12-01T09:00:00+01:00)"
    }


def test_batch_keeps_order(server: str) -> None:
    texts = ["fly to boston", "", "leave Taipei on November 2nd", "show me fares to rome"]
    status, body = call(server + "/parse/batch", {"texts": texts})
    assert status == 200 and [r["text"] for r in body["results"]] == texts


def test_a_text_parses_alike_alone_and_in_a_batch(server: str) -> None:
    lines = (DEMO / "test" / "seq.in").read_text().splitlines()
    texts = [lines[0], "to boston " * 12, lines[1], "hi", lines[2], "fly from Boston to Denver", lines[3], lines[4]]
    alone = [call(server + "/parse", {"text": text, "alternatives": 2})[1] for text in texts]
    status, body = call(server + "/parse/batch", {"texts": texts, "alternatives": 2})
    assert status == 200 and body["results"] == alone


def test_health_and_docs(server: str) -> None:
    status, body = call(server + "/health", method="GET")
    assert status == 200 and body["status"] == "ok"
    status, spec = call(server + "/openapi.json", method="GET")
    assert status == 200 and {"/parse", "/parse/batch", "/health"} <= spec["paths"].keys()
    with urllib.request.urlopen(server + "/docs", timeout=10) as response:
        assert b"swagger" in response.read().lower()


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/parse", {"text": "x" * 501}, 413, "text has 501 characters; the limit is 500"),
        ("/parse/batch", {"texts": ["to rome"] * 9}, 413, "batch of 9 texts; the limit is 8"),
        ("/parse/batch", {"texts": ["ok", "y" * 600]}, 413, "texts[1] has 600 characters"),
        ("/parse", b'{"text": ', 422, "JSON decode error"),
        ("/parse", {"txt": "hi"}, 422, "Field required"),
        ("/parse", {"text": 3}, 422, "Input should be a valid string"),
        ("/parse/batch", {"texts": "not a list"}, 422, "Input should be a valid list"),
        ("/parse", b'{"text": ' + b"[" * 100_000, 422, "nested too deeply"),  # it was 400
        ("/parse/batch", b"[" * 100_000 + b"]" * 100_000, 422, "nested too deeply"),
    ],
)
def test_limits_and_malformed_bodies(server: str, path: str, body: object, status: int, message: str) -> None:
    got, answer = call(server + path, body)
    assert got == status and message in json.dumps(answer["detail"])


def test_huge_body_is_refused_before_it_is_read(server: str) -> None:
    """A 3 MB body is announced but never sent: the answer comes from the announcement alone."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.putrequest("POST", "/parse")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(3_000_000))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["detail"] == "request body of 3000000 bytes; the limit is 2000000"
    connection.close()


def test_concurrent_clients_get_their_own_answers(server: str) -> None:
    texts = [f"fly to boston on november {n}th" for n in range(1, 29)] * 4
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda text: call(server + "/parse", {"text": text}), texts))
    assert all(status == 200 for status, _ in answers)
    assert [parsed["text"] for _, parsed in answers] == texts


def find_chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium through Selenium, with no network but loopback."""
    found = find_chromium()
    if found is None:
        pytest.fail(
            "Chromium and ChromeDriver are needed: `make test` installs them (Debian: chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def test_page_highlights_slots_in_headless_chromium(server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium() as browser:
        browser.get(server + "/")
        box = browser.find_element(By.ID, "text")
        assert box.get_attribute("value") == ""  # no example made up for a model it may not fit
        WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "knows").text)
        assert "fromloc.city_name" in browser.find_element(By.ID, "knows").text  # from GET /info
        box.send_keys("leave Taipei on November 2nd")
        browser.find_element(By.ID, "submit").click()
        WebDriverWait(browser, 20).until(
            lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "done"
        )
        marks = {
            m.get_attribute("data-slot"): m.text.split("\n")[0]
            for m in browser.find_elements(By.CSS_SELECTOR, "#sentence mark")
        }
        assert marks["fromloc.city_name"].startswith("Taipei")
        assert marks["depart_date.month_name"].startswith("November")
        assert marks["depart_date.day_number"].startswith("2nd")
        colours = [m.value_of_css_property("background-color") for m in browser.find_elements(By.CSS_SELECTOR, "#sentence mark")]  # fmt: skip
        assert len(colours) == 3 and len(set(colours)) == 3  # a colour per slot type of the model
        rows = [r.text.split() for r in browser.find_elements(By.CSS_SELECTOR, "#slots tr")]
        assert rows[0] == ["slot", "text", "confidence"]
        city = next(row for row in rows if row[0] == "fromloc.city_name")
        assert city[1] == "Taipei" and city[2].endswith("%") and 0 < float(city[2][:-1]) <= 100
        severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == []  # the favicon too


def test_docs_render_their_operations_offline_in_headless_chromium(server: str) -> None:
    """Swagger UI's script and styles come from the server itself: with no network, the page shows
    every operation (it was blank when they came from a CDN)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium() as browser:
        browser.get(server + "/docs")
        WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
        paths = {
            element.text.replace("\u200b", "")
            for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        }
        assert {"/parse", "/parse/batch", "/health"} <= paths
        sources = [
            e.get_attribute("src") or e.get_attribute("href")
            for e in browser.find_elements(By.CSS_SELECTOR, "script[src], link[href]")
        ]
        assert sources and all(source.startswith(server) for source in sources)
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []


# --- access control and hostile clients -------------------------------------------------------------


def raw_exchange(url: str, request: bytes, wait: float = 30.0) -> bytes:
    """Send raw bytes, then read the answer until the server closes the connection."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=wait) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_json_body_is_read_whatever_its_declared_type(server: str, trained_run: Path) -> None:
    """`curl -d` (docs/new-domain.md) declares a form; the body is JSON all the same."""
    from slotfill.predict import Predictor

    expected = Predictor.load(trained_run, "cpu").parse("fly to boston", values=False)
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        status, parsed = call(
            server + "/parse", {"text": "fly to boston", "values": False}, headers={"Content-Type": content_type}
        )
        assert (status, parsed) == (200, expected)
    body = b'{"texts": ["fly to boston"], "values": false}'
    host = urlsplit(server).netloc
    answer = raw_exchange(
        server,
        b"POST /parse/batch HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
    )  # no content type at all
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and json.loads(payload) == {"results": [expected]}
    status, answer = call(server + "/parse", b"text=fly+to+boston", headers={"Content-Type": "text/plain"})
    assert status == 422 and answer["detail"][0]["msg"].startswith("JSON decode error")


def test_each_request_is_one_access_log_line_without_its_text(trained_run: Path) -> None:
    process, url = start_server(trained_run)
    try:
        call(url + "/parse", {"text": "fly to boston"})
        call(url + "/parse", {"text": "x" * 6000})
        urllib.request.urlopen(url + "/favicon.ico", timeout=10).read()
    finally:
        process.terminate()
        process.wait(timeout=30)
    lines = process.log_path.read_text().splitlines()  # type: ignore[attr-defined]
    logged = [line.split()[1:4] for line in lines if line.startswith("INFO") and " ms" in line]
    assert ["POST", "/parse", "200"] in logged and ["POST", "/parse", "413"] in logged
    assert ["GET", "/health", "200"] in logged and ["GET", "/favicon.ico", "200"] in logged
    assert not any("boston" in line or "xxx" in line for line in lines)
    quiet, url = start_server(trained_run, "--no-access-log")
    try:
        call(url + "/parse", {"text": "fly to boston"})
    finally:
        quiet.terminate()
        quiet.wait(timeout=30)
    assert " ms" not in quiet.log_path.read_text()  # type: ignore[attr-defined]


def test_every_endpoint_but_health_needs_the_key(secured: str) -> None:
    for path, body in (("/parse", {"text": "to boston"}), ("/parse/batch", {"texts": ["to boston"]})):
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": KEY},
            {"Authorization": f"Basic {KEY}"},
        ):
            status, answer = call(secured + path, body, headers=headers)
            assert status == 401 and "API key" in answer["detail"]
        status, answer = call(secured + path, body, headers={"Authorization": f"Bearer {KEY}"})
        assert status == 200
    for path in ("/", "/docs", "/openapi.json"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(secured + path, timeout=10)
        assert refused.value.code == 401 and refused.value.headers["WWW-Authenticate"] == "Bearer"
    assert call(secured + "/health", method="GET")[0] == 200


def test_the_key_comes_from_a_file_or_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from slotfill.cli.tagging import _api_key
    from slotfill.errors import ConfigError

    monkeypatch.delenv("SLOTFILL_API_KEY", raising=False)
    assert _api_key(None) is None  # an open server
    monkeypatch.setenv("SLOTFILL_API_KEY", f" {KEY}\n")
    assert _api_key(None) == KEY
    key_file = tmp_path / "key"
    key_file.write_text("from-the-file\n")
    assert _api_key(key_file) == "from-the-file"  # the file wins
    key_file.write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        _api_key(key_file)
    with pytest.raises(ConfigError, match="cannot read"):
        _api_key(tmp_path / "missing")
    key_file.write_text("first-line\nsecond line\n")
    assert _api_key(key_file) == "first-line"  # the first line is the key
    for empty in ("", "  \n"):  # `SLOTFILL_API_KEY=$(cat missing.txt)`: never an open server
        monkeypatch.setenv("SLOTFILL_API_KEY", empty)
        with pytest.raises(ConfigError, match="SLOTFILL_API_KEY is set but empty"):
            _api_key(None)


def test_only_the_hosts_it_serves_are_answered_and_info_shows_no_paths(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    for host, status in (("127.0.0.1", 200), ("localhost", 200), ("attacker.example", 400)):
        answer = raw_exchange(
            server, f"GET /health HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), (host, answer[:80])
    status, info = call(server + "/info", method="GET")
    assert status == 200 and info["config"]["data"]["dir"] == "demo" and str(ROOT) not in json.dumps(info)
    from slotfill.serve.guard import served_hosts

    assert served_hosts("0.0.0.0") == ["*"] and served_hosts("0.0.0.0", ["api.example"]) == ["api.example"]


def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read(server: str) -> None:
    head = b"POST /parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    piece = b"x" * 50_000
    chunks = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") * 40 + b"1\r\nx\r\n"  # 2,000,001 bytes of body
    answer = raw_exchange(server, head + chunks)  # and no final chunk: the body never ends, the answer comes anyway
    assert answer.startswith(b"HTTP/1.1 413") and b"the limit is 2000000" in answer


def test_a_body_shorter_than_announced_times_out(server: str) -> None:
    answer = raw_exchange(  # the 408 is the server's read timeout (1 s here) answering, not the client's
        server,
        b'POST /parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"text":',
    )
    assert answer.startswith(b"HTTP/1.1 408") and b"no request body for 1 s" in answer


def test_a_body_longer_than_announced_is_cut_at_the_announcement(server: str) -> None:
    body = json.dumps({"text": "to boston"}).encode()
    answer = raw_exchange(
        server,
        b"POST /parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 8\r\n\r\n"
        + body,
    )
    assert answer.startswith(b"HTTP/1.1 422")


def test_idle_connections_are_closed(server: str) -> None:
    address = urlsplit(server)
    with socket.create_connection((address.hostname, address.port), timeout=20) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        # the answer, then the server closes the idle connection (keep-alive 1 s); a server that kept it
        # open would make recv raise at the client's 20 s timeout instead
        while chunk := connection.recv(65536):
            received += chunk
        assert received.startswith(b"HTTP/1.1 200") and received.count(b"HTTP/1.1") == 1


def test_sigterm_ends_the_server_while_a_client_holds_half_a_body(trained_run: Path) -> None:
    process, url = start_server(trained_run, "--read-timeout", "30", "--shutdown-timeout", "2")
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=60) as connection:
        connection.sendall(b'POST /parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"te')
        process.send_signal(signal.SIGTERM)
        # the graceful shutdown gives the client 2 s, then closes it: long before its 30 s read timeout
        process.wait(timeout=25)
    assert process.returncode in (0, -signal.SIGTERM)  # uvicorn ends by re-raising the signal it handled


def test_head_requests_for_health_checks(server: str) -> None:
    for path in ("/health", "/"):
        with urllib.request.urlopen(urllib.request.Request(server + path, method="HEAD"), timeout=10) as response:
            assert response.status == 200 and response.read() == b""


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"text": "\\ud800"}', "text"),
        (b'{"text": NaN}', "text"),
        (b'{"texts": ["ok", NaN]}', "texts"),
        (b'{"texts": ["\\udfff to boston"]}', "texts"),
    ],
)
def test_a_lone_surrogate_or_a_nan_is_422_not_500(server: str, body: bytes, where: str) -> None:
    path = "/parse" if body.startswith(b'{"text"') else "/parse/batch"
    status, answer = call(server + path, body)
    assert status == 422 and where in json.dumps(answer["detail"])


def test_tokens_are_limited_per_text(server: str) -> None:
    status, answer = call(server + "/parse", {"text": "to " * 61})
    assert status == 413 and answer["detail"] == "text: more than 60 tokens; the limit is 60"


# --- the micro-batcher ----------------------------------------------------------------------------------


class SlowRecorder:
    """A stand-in for the Predictor: records each step's texts, and fails on "boom"."""

    def __init__(self) -> None:
        self.steps: list[list[str]] = []
        self.entered = threading.Event()  # the worker is inside a step
        self.gate = threading.Event()  # and may finish it

    def parse_many(self, texts: list[str], **options: object) -> Iterator[dict[str, Any]]:
        self.entered.set()
        assert self.gate.wait(120), "the test never opened the gate"
        self.steps.append(list(texts))
        if "boom" in texts:
            raise RuntimeError("the model failed")
        return iter([{"text": text} for text in texts])


def test_a_small_request_is_not_queued_behind_a_huge_one() -> None:
    from slotfill.serve.batcher import MicroBatcher

    recorder = SlowRecorder()
    batcher = MicroBatcher(recorder, tokens_per_step=40)  # type: ignore[arg-type]
    try:
        huge = batcher.submit([f"big {i} " + "word " * 17 for i in range(10)])  # 20 tokens each: two a step
        assert recorder.entered.wait(120)  # the worker is inside its first step (gated), whatever the machine's speed
        small = batcher.submit(["to boston"])
        recorder.gate.set()
        assert small.result(10) == [{"text": "to boston"}]
        assert [r["text"] for r in huge.result(10)] == [f"big {i} " + "word " * 17 for i in range(10)]
    finally:
        batcher.close()
    where = next(i for i, step in enumerate(recorder.steps) if "to boston" in step)
    assert where == 1 and len(recorder.steps) == 6  # right after the step that was running, not after all five


def test_an_error_fails_only_the_requests_of_its_step() -> None:
    from slotfill.serve.batcher import MicroBatcher

    recorder = SlowRecorder()
    recorder.gate.set()
    batcher = MicroBatcher(recorder, tokens_per_step=4)  # type: ignore[arg-type]
    try:
        failed = batcher.submit(["boom"])
        with pytest.raises(RuntimeError, match="the model failed"):
            failed.result(10)
        assert batcher.submit(["to boston"]).result(10) == [{"text": "to boston"}]  # the worker lives on
        assert batcher.submit([]).result(1) == []
    finally:
        batcher.close()


@pytest.mark.slow
def test_info_says_what_the_model_is(server: str, trained_run: Path) -> None:
    from slotfill.predict import Predictor

    status, described = call(server + "/info", method="GET")
    assert status == 200
    from slotfill.serve.app import public_description

    # Predictor.describe() without this machine's paths (the data directory shown by its name)
    assert described == json.loads(json.dumps(public_description(Predictor.load(trained_run, "cpu").describe())))


def test_tokens_are_counted_as_the_tokeniser_makes_them(trained_run: Path) -> None:
    """Text without spaces (one token per CJK character) counts what it is, for the request limit
    and for the worker's fair steps: 2 texts of 60 characters are 120 tokens, not 2 words."""
    from fastapi import HTTPException

    from slotfill.options import ServeLimits
    from slotfill.predict import Predictor
    from slotfill.serve.app import _check_texts
    from slotfill.serve.batcher import MicroBatcher

    predictor = Predictor.load(trained_run, "cpu")
    texts = ["北京到上海" * 12] * 2
    with pytest.raises(HTTPException) as error:
        _check_texts(predictor, ServeLimits(max_request_tokens=100), texts, ["texts[0]", "texts[1]"])
    assert error.value.status_code == 413 and error.value.detail == "120 tokens in one request; the limit is 100"
    batcher = MicroBatcher(predictor, tokens_per_step=100)
    try:
        results = batcher.submit(texts).result(timeout=60)
    finally:
        batcher.close()
    assert [len(r["tokens"]) for r in results] == [60, 60]


def test_requests_are_logged_only_when_asked(trained_run: Path, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    process, url = start_server(trained_run, "--log-requests", str(log))
    try:
        call(url + "/parse", {"text": "to boston"})
        call(url + "/parse/batch", {"texts": ["from denver", "hi"]})
    finally:
        process.terminate()
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [line["text"] for line in lines] == ["to boston", "from denver", "hi"]
    assert lines[0]["parse"]["text"] == "to boston" and lines[0]["time"].endswith("+00:00")
    from slotfill.annotation.session import read_utterances

    assert [text for text, _ in read_utterances(log)] == ["to boston", "from denver", "hi"]  # what annotate reads
