"""Small I/O helpers shared by the format modules: bounded reads, atomic writes, JSON, number parsing."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import struct
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..core.errors import FormatError, TrajkitError, ValidationError

#: What numpy raises on a corrupt .npy/.npz (its header is parsed with ``ast.literal_eval``).
NUMPY_READ_ERRORS = (ValueError, SyntaxError, tokenize.TokenError, EOFError, OSError, TypeError, KeyError,
                     zipfile.BadZipFile, MemoryError)


class FormatWarning(UserWarning):
    """A file was read, but a value in it is implausible and a default was used instead (the message names it)."""


#: Largest file any reader accepts; controls are small, so anything larger is a mistake or an attack. Readers
#: peak at no more than 4× their file (``tests/formats/test_reader_memory.py``), so this keeps any read ≤ 1 GiB.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Python objects a JSON document may expand to whatever its size (by :func:`json_footprint`'s estimate: trajkit's
#: own JSON of 5 000 tracks × 81 frames, 17 MB, or a GenDoP file of 48 000 frames, 40 MB); past it they may take
#: at most :data:`JSON_RATIO` × the file, which keeps reading a large file within 4× it.
JSON_ALLOWANCE = 128 * 1024 * 1024
JSON_RATIO = 3
_MIB = 1024 * 1024


def read_bytes(path: Path, fmt: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a whole file, refusing files over ``limit`` bytes."""
    check_size(path, fmt, limit)
    return path.read_bytes()


def check_size(path: Path, fmt: str, limit: int = MAX_FILE_BYTES) -> int:
    """The file's size in bytes, refusing files over ``limit`` before anything is read."""
    size = path.stat().st_size
    if size > limit:
        raise FormatError(path, fmt, "file too large", expected=f"at most {limit} bytes", found=f"{size} bytes")
    return size


def _decode(data: bytes, path: Path | None, fmt: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(path, fmt, "not UTF-8 text", found=f"undecodable byte at offset {exc.start}") from exc


def read_text(path: Path, fmt: str, limit: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file (BOM tolerated), with a clear error for binary content."""
    return _decode(read_bytes(path, fmt, limit), path, fmt)


def text_lines(path: Path, fmt: str, limit: int = MAX_FILE_BYTES) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for the lines of a UTF-8 text file (BOM tolerated) that are not blank, streamed.

    Line ends are ``\\n``, ``\\r\\n`` or ``\\r``. The file is decoded 256 KiB at a time and blank or
    whitespace-only lines are dropped without being held, so a reader that keeps what it parses, not the text,
    needs memory for its result only. Files over ``limit`` bytes are refused first.
    """
    check_size(path, fmt, limit)
    lineno = 0
    parts: list[str] = []  # the pieces of a line that runs on past the chunk read so far
    with path.open(encoding="utf-8-sig", newline=None) as fh:
        while True:
            try:
                chunk = fh.read(_MIB // 4)
            except UnicodeDecodeError as exc:
                raise FormatError(path, fmt, "not UTF-8 text", found=f"undecodable byte after line {lineno}") from exc
            lines = chunk.split("\n")
            if len(lines) > 1 or not chunk:
                lines[0] = "".join(parts) + lines[0]
                parts = []
            if chunk:  # the last piece may go on in the next chunk; a blank run is kept as one space
                tail = lines.pop()
                parts.append(" " if tail.isspace() else tail)
            yield from [(lineno + i, line) for i, line in enumerate(lines, start=1) if line and not line.isspace()]
            lineno += len(lines)
            if not chunk:
                return


def json_footprint(doc: str | bytes) -> int:
    """An upper estimate of the bytes ``json.loads(doc)`` holds at its peak: the decoded text and its objects.

    Counted from the raw characters (CPython 3.11 sizes): each ``[`` a list with room for 4 items and its first
    item (128 B), each ``{`` a small dict (192 B), each ``,`` or ``:`` one more slot or entry and its value (a
    float is 24 B, an int 28–32), each pair of quotes a string (at most 80 B besides its characters), and the
    parser's own 4 KiB. The text counts 1 byte a character when it is ASCII without ``\\u`` escapes, else 4 (a
    str stores all its characters at the width of its widest). Brackets and commas inside strings are counted
    too, so the estimate only errs high; ``tests/formats/test_stream_properties.py`` checks it does.
    """
    if isinstance(doc, str):
        wide, count = not doc.isascii() or "\\u" in doc, doc.count
    else:
        wide, count = not doc.isascii() or b"\\u" in doc, (lambda c: doc.count(c.encode()))
    quotes = count('"') + count("'")  # ComfyUI's Python-repr files use single quotes
    return (4096 + len(doc) * (4 if wide else 1) + 128 * count("[") + 192 * count("{")
            + 48 * (count(",") + count(":")) + 80 * (quotes // 2))


def check_json_footprint(doc: str | bytes, path: Path | None, fmt: str) -> None:
    """Refuse a JSON document whose objects would take more than ``max(JSON_ALLOWANCE, JSON_RATIO × size)``."""
    need, size = json_footprint(doc), len(doc)
    allowed = max(JSON_ALLOWANCE, JSON_RATIO * size)
    if need > allowed:
        raise FormatError(path, fmt, "the JSON document is too large to hold in memory",
                          expected=f"at most {allowed / _MIB:.0f} MiB of values (a file this large is read "
                                   "from trajkit's .npz form)",
                          found=f"≈ {need / _MIB:.0f} MiB of values in {size / _MIB:.1f} MiB of text")


def read_json(path: Path, fmt: str, limit: int = MAX_FILE_BYTES) -> Any:
    """Parse a JSON file; NaN/Infinity literals are rejected (controls must be finite).

    A document too large to hold (:func:`check_json_footprint`) is refused before it is decoded.
    """
    data = read_bytes(path, fmt, limit)
    check_json_footprint(data, path, fmt)
    text = _decode(data, path, fmt)
    del data  # the bytes go before the objects come
    return _loads(text, path, fmt)


def parse_json(text: str, path: Path | None, fmt: str) -> Any:
    """Parse JSON text with errors reported as :class:`FormatError` (line and column); a document too large to
    hold is refused (:func:`check_json_footprint`)."""
    check_json_footprint(text, path, fmt)
    return _loads(text, path, fmt)


def _loads(text: str, path: Path | None, fmt: str) -> Any:
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


_ESCAPE = re.compile(r"\\(.)", re.S)
#: What may follow a backslash in a Python string literal (``\\N{...}``, ``\\x..``, octal digits, a line end …).
_VALID_ESCAPES = frozenset("\n\r\\'\"abfnrtv01234567xNuU")


def invalid_escape(text: str) -> str | None:
    """The first backslash escape in Python literal ``text`` that Python does not define (``\\c``), or ``None``.

    Python's parser only warns about those (``DeprecationWarning: invalid escape sequence``, printed to the
    user as coming from ``<unknown>``) and keeps the backslash; later Pythons refuse them. Pairs are read left
    to right, so an escaped backslash followed by ``c`` is valid.
    """
    for m in _ESCAPE.finditer(text):
        if m.group(1) not in _VALID_ESCAPES:
            return m.group(0)
    return None


def _npy_header(head: bytes) -> bytes:
    """The header dict text of an ``.npy`` (format 1, 2 or 3) from its first bytes (empty if not one)."""
    if not head.startswith(b"\x93NUMPY") or len(head) < 12:
        return b""
    size, start = (struct.unpack("<H", head[8:10])[0], 10) if head[6] == 1 else (struct.unpack("<I", head[8:12])[0], 12)
    return head[start:start + size]


def check_npy_headers(data: bytes, path: Path | None, fmt: str) -> None:
    """Refuse an ``.npy`` (or an ``.npz`` whose member) has a backslash in its header.

    numpy parses the header with :func:`ast.literal_eval`, where a backslash is an escape that Python may
    warn about (see :func:`invalid_escape`); ``np.save`` never writes one. Archives too broken to look into
    are left for ``np.load`` to report.
    """
    heads: list[tuple[str, bytes]] = []
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    with zf.open(info) as fh:
                        heads.append((info.filename, fh.read(12 + 65536)))
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
            return
    else:
        heads.append(("", data[:12 + 65536]))
    for name, head in heads:
        if b"\\" in _npy_header(head):
            raise FormatError(path, fmt, f"the .npy header{f' of {name}' if name else ''} holds a backslash",
                              expected="a header as np.save writes it", found=repr(_npy_header(head)[:80]))
