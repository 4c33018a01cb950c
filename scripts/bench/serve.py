#!/usr/bin/env python3
"""Load-test `slotfill serve` on loopback: concurrent clients for a bounded time.

    python scripts/bench/serve.py MODEL_DIR [--clients 32] [--seconds 20] [--texts ../shared/data/atis/test/seq.in]
    python scripts/bench/serve.py OLD_MODEL_DIR --source /tmp/v01   # another checkout's server (0.1: git worktree)

Starts the server on 127.0.0.1 (a free port), then each client thread sends POST /parse requests
with ATIS test sentences over its own keep-alive connection until the time is up. Prints one JSON
line: requests/s, p50/p99 latency (ms), errors. Traffic never leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("the server exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not start")


def client(port: int, texts: list[str], offset: int, stop_at: float, latencies: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = offset
    while time.monotonic() < stop_at:
        body = json.dumps({"text": texts[i % len(texts)]})
        start = time.perf_counter()
        try:
            connection.request("POST", "/parse", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200 or json.loads(payload)["text"] != texts[i % len(texts)]:
                errors.append(f"{response.status}: {payload[:100]!r}")
        except (OSError, http.client.HTTPException) as error:
            errors.append(repr(error))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - start)
        i += 1
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--texts", type=Path, default=Path("../shared/data/atis/test/seq.in"))
    parser.add_argument("--source", type=Path, help="run the server of this slotfill checkout (PYTHONPATH)")
    args = parser.parse_args()
    texts = [line for line in args.texts.read_text(encoding="utf-8").splitlines() if line.strip()]
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "slotfill.cli",
            "serve",
            str(args.model_dir.resolve()),
            "--port",
            str(port),
            "--device",
            "cpu",
        ],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(args.source.resolve())} if args.source else None,
        cwd=args.source.resolve() if args.source else None,  # its own package, not this checkout's
    )
    try:
        wait_until_up(port, server)
        latencies: list[list[float]] = [[] for _ in range(args.clients)]
        errors: list[str] = []
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client, args=(port, texts, n * 97, stop_at, latencies[n], errors))
            for n in range(args.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    every = sorted(t for per_client in latencies for t in per_client)
    print(
        json.dumps(
            {
                "clients": args.clients,
                "seconds": round(elapsed, 1),
                "requests": len(every),
                "requests_per_second": round(len(every) / elapsed, 1),
                "latency_ms_p50": round(1000 * statistics.median(every), 2),
                "latency_ms_p99": round(1000 * every[int(0.99 * (len(every) - 1))], 2),
                "errors": len(errors),
                "first_errors": errors[:3],
            }
        )
    )


if __name__ == "__main__":
    main()
