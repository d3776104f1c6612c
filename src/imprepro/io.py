"""Small file helpers: atomic writes so that a failed stage never leaves outputs that look complete."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Returns the hex sha256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def timing(start: float) -> dict[str, Any]:
    """When a stage started (UTC, ISO 8601) and how long its work took, for its output JSON."""
    started = datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
    return {"started_at": started.isoformat(timespec="seconds"), "wall_s": round(time.time() - start, 2)}


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Writes JSON atomically (see :func:`write_text`)."""
    write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes a text file atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_json(path: str | os.PathLike) -> Any:
    """Reads a JSON file, naming the file in the error when it is missing or malformed."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (run the stage that writes it first)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary folder that replaces ``path`` only if the block succeeds.

    The previous output is removed first, so a stage that fails half-way leaves no output folder
    at all: never a partial one, and never a stale one that looks complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        shutil.rmtree(path)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")
