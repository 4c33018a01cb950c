"""The real HTTP server on 127.0.0.1, spoken to over HTTP, and its page driven in headless Chromium."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(trained_run: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "slotfill.cli", "serve", str(trained_run), "--port", str(port), "--device", "cpu",
         "--max-text-chars", "500", "--max-batch", "8"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).read()
            break
        except OSError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)


def call(url: str, body: object | bytes | None = None, method: str = "POST") -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_parse_returns_what_predict_prints(server: str, trained_run: Path) -> None:
    from slotfill.predict import Predictor

    status, parsed = call(server + "/parse", {"text": "leave Taipei on November 2nd"})
    assert status == 200
    assert parsed == Predictor.load(trained_run, "cpu").parse("leave Taipei on November 2nd")
    assert parsed["slots"][0] == {"slot": "fromloc.city_name", "text": "Taipei", "start": 6, "end": 12}


def test_batch_keeps_order(server: str) -> None:
    texts = ["fly to boston", "", "leave Taipei on November 2nd", "show me fares to rome"]
    status, body = call(server + "/parse/batch", {"texts": texts})
    assert status == 200 and [r["text"] for r in body["results"]] == texts


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


def test_page_highlights_slots_in_headless_chromium(server: str) -> None:
    found = find_chromium()
    if found is None:
        pytest.fail("Chromium and ChromeDriver are needed: `make test` installs them (Debian: chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        browser.get(server + "/")
        box = browser.find_element(By.ID, "text")
        box.clear()
        box.send_keys("leave Taipei on November 2nd")
        browser.find_element(By.ID, "submit").click()
        WebDriverWait(browser, 20).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "done")
        marks = {m.get_attribute("data-slot"): m.text.split("\n")[0] for m in browser.find_elements(By.CSS_SELECTOR, "#sentence mark")}
        assert marks["fromloc.city_name"].startswith("Taipei")
        assert marks["depart_date.month_name"].startswith("November")
        assert marks["depart_date.day_number"].startswith("2nd")
        rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#slots tr")]
        assert "fromloc.city_name Taipei" in rows
    finally:
        browser.quit()
