"""Atomic file and directory writes, the lock a run directory is written under, and the message
for a path that is not there.

A reader sees the old version of a file or directory or the new one, never half of one.
Platforms: Linux swaps a directory in one atomic step (renameat2 RENAME_EXCHANGE); elsewhere
(macOS, Windows, Linux before 3.15 or a file system without it) the swap is two renames, with a
moment between them when the directory is absent, never half-written.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from slotfill.errors import OutputError


def no_such_path(path: Path, prefix: str = "") -> str:
    """`PATH: no such file or directory`, with the nearest name in its folder when one is close
    (`data/demo/tset` -> `did you mean data/demo/test?`); PATH as given."""
    path = Path(path)
    message = f"{prefix}{path}: no such file or directory"
    try:
        names = [entry.name for entry in path.parent.iterdir()] if path.parent.is_dir() else []
    except OSError:
        names = []
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return message + (f" (did you mean {path.parent / close[0]}?)" if close else "")


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: a temporary file beside it, flushed to disk and
    renamed over `path` when the block ends, removed if it raises. Readers never see half of it.

    What `open(path, "wb")` would do stays true: a symbolic link is followed (its target is
    replaced, the link kept), a device or a FIFO is written into (never replaced by a file), and a
    new file gets the permissions the umask allows (an existing one keeps its own). A write that
    fails (a full disk, a file too large, a directory removed meanwhile) raises OutputError in one
    line naming `path`; nothing half-written is left."""
    path = Path(path)
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise OutputError(f"{path}: is a directory")
        with _written_into(path, target) as handle:  # a device or a FIFO: no rename is possible
            yield handle
        return
    try:
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError) and _is_write_error(error):
            raise OutputError(f"{path}: cannot write ({error.strerror})") from None
        raise
    _fsync_dir(target.parent)


WRITE_ERRORS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOENT, errno.EPIPE)


def _is_write_error(error: OSError) -> bool:
    return error.errno in WRITE_ERRORS


@contextlib.contextmanager
def _written_into(path: Path, target: Path) -> Iterator[BinaryIO]:
    try:
        handle = open(target, "wb")  # noqa: SIM115 - closed below, errors mapped to one line
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror})") from None
    try:
        with handle:
            yield handle
    except OSError as error:
        if _is_write_error(error):
            raise OutputError(f"{path}: cannot write ({error.strerror})") from None
        raise


def _umask() -> int:
    """The process's umask (read by setting it and setting it back: there is no other way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` as a whole (atomic_writer)."""
    with atomic_writer(path) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the platform,
    kernel or file system cannot, and nothing was changed."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):  # not glibc (macOS), or no C library by that name (Windows)
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def replace_dir(staged: Path, target: Path) -> None:
    """Put the complete directory `staged` in place of `target` (which may not exist yet)."""
    staged, target = Path(staged), Path(target)
    _fsync_dir(staged)
    if not target.exists():
        os.rename(staged, target)
    elif exchange(staged, target):
        shutil.rmtree(staged)  # now holds the old version
    else:
        old = staging_dir(target, "old")
        os.rmdir(old)
        os.rename(target, old)
        os.rename(staged, target)
        shutil.rmtree(old)
    _fsync_dir(target.parent)


@contextlib.contextmanager
def writing_dir(target: Path) -> Iterator[Path]:
    """Yield an empty staging directory to fill; on success it replaces `target` as a whole
    (`replace_dir`), on any error it is removed and `target` is left as it was. A write that fails
    inside (a full disk) raises OutputError in one line naming `target`."""
    staged = staging_dir(target)
    try:
        yield staged
        replace_dir(staged, target)
    except BaseException as error:
        shutil.rmtree(staged, ignore_errors=True)
        if isinstance(error, OSError) and _is_write_error(error):  # a full disk, a file too large, ...
            raise OutputError(f"{target}: cannot write ({error.strerror})") from None
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or this platform cannot tell: assume alive
    return True


def staging_dir(target: Path, kind: str = "new") -> Path:
    """A fresh empty directory beside `target`, on the same file system, named
    `.TARGET.KIND.PID.RANDOM.tmp`. Staging directories left by a writer of the same target that
    is no longer running (killed) are removed first; those of a live process are not touched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}."
    for leftover in target.parent.iterdir():
        name = leftover.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        parts = name[len(prefix) :].split(".")
        if len(parts) == 4 and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            shutil.rmtree(leftover, ignore_errors=True)
    staged = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{prefix}{kind}.{os.getpid()}.", suffix=".tmp"))
    staged.chmod(0o777 & ~_umask())  # as mkdir would make it: a model another user trained stays readable
    return staged


@contextlib.contextmanager
def locked_dir(directory: Path, lock_name: str) -> Iterator[None]:
    """Hold an exclusive lock on `directory` (the file `directory/lock_name`) while writing it;
    another process that asks gets OutputError at once. A directory this call created and nothing
    was written into (the run failed first) is removed again."""
    from filelock import FileLock, Timeout  # here: a tagging process never takes a lock (16 ms of its start)

    directory = Path(directory)
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{directory}: cannot create the directory ({error.strerror})") from None
    lock = FileLock(directory / lock_name, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(f"{directory}: in use by another slotfill run (lock {directory / lock_name})") from None
    except OSError as error:
        raise OutputError(f"{directory}: cannot write here ({error.strerror})") from None
    try:
        yield
    finally:
        empty = created and [p.name for p in directory.iterdir()] == [lock_name]  # nothing written: leave nothing
        if empty:
            (directory / lock_name).unlink(missing_ok=True)  # while held: no other run can have taken it
        lock.release()
        if empty:
            with contextlib.suppress(OSError):
                directory.rmdir()


def state_dir() -> Path:
    """Where slotfill keeps what it remembers between runs (`tag`'s history): $SLOTFILL_STATE, else
    the user's state directory (platformdirs: ~/.local/state/slotfill on Linux)."""
    if os.environ.get(STATE_VARIABLE):
        return Path(os.environ[STATE_VARIABLE])
    import platformdirs

    return platformdirs.user_state_path("slotfill")


STATE_VARIABLE = "SLOTFILL_STATE"


def download_dir(kind: str, name: str, directory: Path | None = None) -> Path:
    """Where download `name` of `kind` (layout.CACHES: datasets, vectors, transformers) is kept:
    under `directory` when given, else under the kind's environment variable, else the user's cache
    directory's folder of the kind's name (platformdirs). What slotfill 0.4 called the kind
    (layout.LEGACY_CACHES: $SLOTFILL_ENCODERS, the cache's encoders/) still works: its variable
    where the current one is not set, and a download kept in its folder while the current has none."""
    from slotfill.layout import CACHES, LEGACY_CACHES

    if directory is not None:
        return Path(directory) / name
    variable = CACHES[kind]
    if kind in LEGACY_CACHES and not os.environ.get(variable):
        legacy_folder, legacy_variable = LEGACY_CACHES[kind]
        if os.environ.get(legacy_variable):
            return Path(os.environ[legacy_variable]) / name
        current, legacy = _cache_root(kind, variable) / name, _cache_root(legacy_folder, legacy_variable) / name
        return legacy if legacy.exists() and not current.exists() else current
    return _cache_root(kind, variable) / name


def _cache_root(folder: str, variable: str) -> Path:
    if os.environ.get(variable):
        return Path(os.environ[variable])
    import platformdirs

    return platformdirs.user_cache_path("slotfill") / folder
