"""The one verified download path of slotfill.data.downloads: a file fetched over HTTP or copied
from a local copy, bounded in size and time and checked against its pinned sha256 as it is
written; a download staged beside its place and swapped in whole once verified, or nothing kept.

Downloads are streamed with requests: at most a given number of bytes a file (declared or
received), no compressed bodies, one deadline a file however slowly it trickles.
"""

from __future__ import annotations

import hashlib
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from slotfill.errors import DataError, OutputError
from slotfill.files import replace_dir, staging_dir

TIMEOUT_S = 60
MAX_FILE_BYTES = 16 << 20  # every registry file is under 4 MB: more is not the published file
DEADLINE_S = 120.0  # the longest one file may take to arrive, however it trickles
CHUNK = 1 << 16


def copy_verified(
    chunks: Iterator[bytes],
    destination: Path,
    where: str,
    deadline: float | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    allowed_s: float = DEADLINE_S,
) -> str:
    """Write `chunks` to `destination`, at most `max_bytes` and (with `deadline`, a
    time.monotonic() value) no later than it; returns the sha256 of what was written."""
    digest, written = hashlib.sha256(), 0
    with destination.open("wb") as out:
        for chunk in chunks:
            written += len(chunk)
            if written > max_bytes:
                raise DataError(f"{where}: more than {max_bytes:,} bytes, more than any published file: stopped")
            if deadline is not None and time.monotonic() > deadline:
                raise DataError(f"{where}: not complete after {allowed_s:g} s: stopped")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def copy_stream(handle: BinaryIO, destination: Path, where: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """copy_verified of an open binary file, read CHUNK bytes at a time; returns the sha256."""
    return copy_verified(iter(lambda: handle.read(CHUNK), b""), destination, where, None, max_bytes)


def fetch(
    url: str,
    destination: Path,
    digest: str,
    name: str,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    deadline_s: float | None = None,
    retry: str = "slotfill data download {name} --from DIR",
) -> None:
    """One file over HTTP, streamed: its declared and its real size bounded, compressed bodies
    refused (a small gzip can expand to gigabytes), one deadline for the whole file. `retry`: the
    command that imports a local copy instead, for the message when the download fails."""
    import requests
    import urllib3

    deadline_s = DEADLINE_S if deadline_s is None else deadline_s
    deadline = time.monotonic() + deadline_s
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT_S, headers={"Accept-Encoding": "identity"}) as response:
            response.raise_for_status()
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise DataError(
                    f"{url}: announces {int(declared):,} bytes, more than any published {name} file: not downloaded"
                )
            if response.headers.get("Content-Encoding", "identity") not in ("identity", ""):
                raise DataError(
                    f"{url}: sent compressed ({response.headers['Content-Encoding']}) though asked not to: not downloaded"
                )
            # read1: what has arrived, at most CHUNK bytes, so the deadline is looked at while a mirror trickles
            chunks = iter(lambda: response.raw.read1(CHUNK, decode_content=False), b"")
            received = copy_verified(chunks, destination, url, deadline, max_bytes, deadline_s)
    except requests.exceptions.HTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        raise DataError(f"{url}: HTTP {status}; nothing was written") from None
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as error:
        during = isinstance(error, urllib3.exceptions.HTTPError)  # raised while the body streamed
        reason = "the connection was cut during the download" if during else f"{type(error).__name__}; offline?"
        raise DataError(f"{url}: cannot download ({reason}); import a local copy: {retry.format(name=name)}") from None
    if received != digest:
        raise DataError(f"{url}: the file's sha256 is not the registry's (a damaged or changed file): nothing was kept")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(root: Path, expected: Mapping[str, str]) -> bool:
    """True when every file of `expected` (path below `root` -> sha256) is there with its checksum."""
    return all((root / path).is_file() and sha256(root / path) == digest for path, digest in expected.items())


def import_verified(origin: Path, destination: Path, digest: str, name: str, missing: str, max_bytes: int) -> None:
    """The local copy `origin` of a published file of `name` written to `destination`, its size
    bounded before a byte is copied (a huge or sparse file) and its sha256 checked as it is written;
    `missing`: what a copy holds, for the message of an absent file."""
    if not origin.is_file():
        raise DataError(f"{origin}: missing ({missing})")
    if origin.stat().st_size > max_bytes:
        raise DataError(f"{origin}: {origin.stat().st_size:,} bytes, more than any published {name} file")
    with origin.open("rb") as handle:
        copied = copy_stream(handle, destination, str(origin), max_bytes)
    if copied != digest:
        raise DataError(f"{origin}: its sha256 is not the registry's: not the published {name} file")


def extract_verified(
    archive: zipfile.ZipFile, member: str, destination: Path, digest: str, where: str, max_bytes: int
) -> None:
    """Member `member` of the open zip `archive` (named `where` in messages) written to
    `destination`, streamed and checked against its pinned sha256 `digest` as it is written."""
    try:
        with archive.open(member) as handle:
            copied = copy_stream(handle, destination, f"{where}: {member}", max_bytes)
    except KeyError:
        raise DataError(f"{where}: has no {member}") from None
    if copied != digest:
        raise DataError(f"{where}: {member}: its sha256 is not the registry's")


def install(target: Path, fill: Callable[[Path], None]) -> Path:
    """`fill` a staging directory beside `target` (fetching and verifying every file into it), then
    swap it in whole; on any failure nothing is kept. An OSError while writing is an OutputError
    naming `target`; `fill`'s own errors (DataError) pass as they are. Returns `target`."""
    stage = staging_dir(target)
    try:
        fill(stage)
        replace_dir(stage, target)
    except BaseException as error:
        shutil.rmtree(stage, ignore_errors=True)
        if isinstance(error, OSError):  # writing the copy: a full disk, a read-only directory
            raise OutputError(f"{target}: cannot write ({error.strerror})") from None
        raise
    return target
