"""Small I/O helpers shared by the format modules: bounded reads, atomic writes, JSON, number parsing."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import tokenize
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..core.errors import FormatError, TrajkitError, ValidationError

#: What numpy raises on a corrupt .npy/.npz (its header is parsed with ``ast.literal_eval``).
NUMPY_READ_ERRORS = (ValueError, SyntaxError, tokenize.TokenError, EOFError, OSError, TypeError, KeyError,
                     zipfile.BadZipFile, MemoryError)

#: Largest file any reader accepts; controls are small, so anything larger is a mistake or an attack.
MAX_FILE_BYTES = 512 * 1024 * 1024


def read_bytes(path: Path, fmt: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a whole file, refusing files over ``limit`` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise FormatError(path, fmt, "file too large", expected=f"at most {limit} bytes", found=f"{size} bytes")
    return path.read_bytes()


def read_text(path: Path, fmt: str, limit: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file (BOM tolerated), with a clear error for binary content."""
    data = read_bytes(path, fmt, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(path, fmt, "not UTF-8 text", found=f"undecodable byte at offset {exc.start}") from exc


def read_json(path: Path, fmt: str) -> Any:
    """Parse a JSON file; NaN/Infinity literals are rejected (controls must be finite)."""
    text = read_text(path, fmt)
    return parse_json(text, path, fmt)


def parse_json(text: str, path: Path | None, fmt: str) -> Any:
    """Parse JSON text with errors reported as :class:`FormatError` (line and column)."""

    def reject_constant(name: str) -> Any:
        raise FormatError(path, fmt, "non-finite number in JSON", expected="finite numbers", found=name)

    try:
        return json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(path, fmt, f"invalid JSON at line {exc.lineno}, column {exc.colno}",
                          found=exc.msg) from exc
    except RecursionError as exc:
        raise FormatError(path, fmt, "JSON nested too deeply") from exc


def _file_mode(target: Path) -> int:
    """Mode for a new file: the existing file's, else 0o666 less the umask (mkstemp would give 0o600)."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_error(target: Path, exc: OSError) -> TrajkitError:
    """A :class:`TrajkitError` naming the file that could not be written and the system's reason."""
    culprit = None if exc.filename is None else Path(exc.filename)
    if isinstance(exc, FileExistsError) and culprit is not None:  # mkdir met a file where a folder should be
        return TrajkitError(f"{target}: cannot write the file ({culprit} is not a folder)")
    reason = exc.strerror or str(exc) or type(exc).__name__
    if culprit is not None and culprit != target and culprit.parent != target.parent:  # a folder on the way
        reason += f": {culprit}"
    return TrajkitError(f"{target}: cannot write the file ({reason})")


def atomic_write(path: str | os.PathLike[str], writer: Callable[[IO[bytes]], None]) -> Path:
    """Write a file through a temporary sibling and an atomic rename.

    An interrupted or failed write never leaves a half-written file and never destroys a file that
    was already at ``path``. Parent folders are created. A system error (unwritable or missing folder,
    full disk …) is a :class:`TrajkitError` naming ``path`` and the reason.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _write_error(target, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _write_error(target, exc) from exc
        raise
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` to ``path``."""
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, tuple)):
        return str(value) if isinstance(value, Path) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(obj: Any, *, indent: int | None = 2) -> str:
    """JSON text for files trajkit writes (numpy values converted, non-finite numbers refused, final newline)."""
    return json.dumps(obj, indent=indent, allow_nan=False, ensure_ascii=False, default=_json_default) + "\n"


def parse_float(token: str, path: Path | None, fmt: str, what: str) -> float:
    """A finite float from a text token, with the token named in the error."""
    try:
        value = float(token)
    except ValueError as exc:
        raise FormatError(path, fmt, f"{what} is not a number", found=repr(token[:40])) from exc
    if not math.isfinite(value):
        raise FormatError(path, fmt, f"{what} is not finite", found=repr(token[:40]))
    return value


def number_array(value: Any, path: Path | None, fmt: str, what: str, shape: tuple[int | None, ...],
                 shape_text: str) -> np.ndarray:
    """A finite float64 array of the given shape from parsed JSON (``None`` in ``shape`` = any size)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise FormatError(path, fmt, f"{what} is not a numeric array", expected=shape_text) from exc
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=False)):
        raise FormatError(path, fmt, f"{what} has the wrong shape", expected=shape_text, found=str(arr.shape))
    if not np.isfinite(arr).all():
        raise FormatError(path, fmt, f"{what} holds NaN or infinite values", expected="finite numbers")
    return arr


@contextlib.contextmanager
def file_fields(path: Path | None, fmt: str, problem: Callable[[str], str]) -> Iterator[None]:
    """Re-raise a core type's :class:`ValidationError` from the block as a :class:`FormatError` that names
    the file and, through ``problem(field)``, the field as the file calls it."""
    try:
        yield
    except ValidationError as exc:
        raise FormatError(path, fmt, problem(exc.field), expected=exc.expected, found=exc.found) from exc


def require(condition: bool, path: Path | None, fmt: str, problem: str, *, expected: str | None = None,
            found: str | None = None) -> None:
    """Raise a :class:`FormatError` unless ``condition`` holds."""
    if not condition:
        raise FormatError(path, fmt, problem, expected=expected, found=found)


def invert_w2c(w2c: np.ndarray, path: Path | None, fmt: str, label: str = "pose") -> np.ndarray:
    """Exact inverse of world-to-camera matrices ``(T, 4, 4)``; a singular rotation block is a file error.

    The exact (not rigid) inverse keeps round trips of files whose rotations are orthonormal only to
    ~1e-7 (RealEstate10K, MotionCtrl) exact to 1e-9.
    """
    det = np.linalg.det(w2c[:, :3, :3])
    bad = np.flatnonzero(np.abs(det) < 1e-6)
    if bad.size:
        raise FormatError(path, fmt, f"{label} {bad[0]} has a singular rotation block", expected="a rotation (det +1)",
                          found=f"det = {det[bad[0]]:.3g}")
    return np.linalg.inv(w2c)
