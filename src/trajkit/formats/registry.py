"""The format registry: ``load`` sniffs a file's format, ``save`` picks one from the extension.

Each format module exposes ``FORMAT = Format(...)``. A format declares what it reads and writes, how
to recognise a file (``sniff`` on the path and its first bytes), which loading *hints* it accepts
(``size``, ``fps``, ``image``, ``camera``, ...) and, when the target format fixes the timeline (ATI:
121 frames at 24 fps), that timeline so that converters can resample first.
"""

from __future__ import annotations

import json
import lzma
import os
import pickle
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import FormatError, TrajkitError, UnknownFormatError, UnsupportedError, ValidationError

#: How many leading bytes ``sniff`` functions see.
HEAD_BYTES = 64 * 1024

Reader = Callable[..., Any]
Writer = Callable[..., None]
Sniffer = Callable[[Path, bytes], bool]


@dataclass(frozen=True)
class Format:
    """One outside (or native) file format.

    ``kind`` is what ``read`` returns: ``"tracks"``, ``"camera"``, ``"entities"`` or ``"document"``
    (auxiliary files such as prompt lists). ``writes`` names the Python types ``write`` accepts.
    """

    name: str
    title: str
    kind: str
    extensions: tuple[str, ...]
    sniff: Sniffer
    read: Reader | None = None
    write: Writer | None = None
    writes: tuple[type, ...] = ()
    hints: tuple[str, ...] = ()
    frames: int | None = None
    fps: float | None = None
    notes: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


_FORMATS: list[Format] = []

# Exceptions a reader may raise on hostile or malformed input that are not already TrajkitErrors.
_MALFORMED = (
    ValueError, KeyError, IndexError, TypeError, AttributeError, EOFError, OverflowError, RecursionError,
    UnicodeError, zipfile.BadZipFile, zipfile.LargeZipFile, pickle.UnpicklingError, json.JSONDecodeError,
    yaml.YAMLError, zlib.error, lzma.LZMAError, OSError, NotImplementedError, AssertionError, SyntaxError,
    MemoryError,
)


def register(fmt: Format) -> Format:
    """Add a format (later registrations are sniffed after earlier ones)."""
    if any(f.name == fmt.name for f in _FORMATS):
        raise ValueError(f"format {fmt.name!r} registered twice")
    _FORMATS.append(fmt)
    return fmt


def formats() -> list[Format]:
    """All registered formats, in sniffing order."""
    _ensure_loaded()
    return list(_FORMATS)


def get_format(name: str) -> Format:
    """A format by name (case-insensitive; ``_`` and ``-`` are interchangeable)."""
    _ensure_loaded()
    key = name.lower().replace("_", "-")
    for fmt in _FORMATS:
        if fmt.name == key:
            return fmt
    names = ", ".join(f.name for f in _FORMATS)
    raise UnknownFormatError(f"unknown format {name!r}; known formats: {names}")


def _ensure_loaded() -> None:
    """Import every format module (each registers itself) and put the registry in sniffing order.

    Formats are ordered by their module's position in ``_all.ORDER`` (registration order within a module),
    whatever order modules happened to be imported in.
    """
    from . import _all

    rank = {f"{__package__}.{name}": i for i, name in enumerate(_all.ORDER)}
    _FORMATS.sort(key=lambda f: rank.get(f.sniff.__module__, len(rank)))


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def detect(path: str | os.PathLike[str]) -> Format:
    """The format of an existing file, by content (and extension where content is ambiguous)."""
    p = _existing(path)
    head = _head(p)
    for fmt in formats():
        try:
            if fmt.sniff(p, head):
                return fmt
        except Exception:  # a sniffer must never turn a readable file into a crash
            continue
    raise UnknownFormatError(
        f"{p}: no known format recognises this file (extension {p.suffix or 'none'!r}); "
        f"pass format=... (CLI: --from) with one of: {', '.join(f.name for f in formats() if f.read)}"
    )


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise TrajkitError(f"{p}: no such file")
    if not p.is_file():
        raise TrajkitError(f"{p}: not a regular file")
    return p


def load(path: str | os.PathLike[str], format: str | None = None, **hints: Any) -> Any:
    """Read any supported file into a core type (or a document type for auxiliary files).

    ``format`` skips sniffing. ``hints`` carry what a file does not store (``size=(W, H)``, ``fps=``,
    ``image=`` for ATI tracks, ``camera=`` for multi-camera files, ...); hints a format does not use
    are ignored, and ``None`` values mean "not given". Any problem with the file raises a
    :class:`~trajkit.core.errors.TrajkitError` naming the file and the assumed format.
    """
    p = _existing(path)
    fmt = get_format(format) if format else detect(p)
    if fmt.read is None:
        raise UnsupportedError(f"{p}: format {fmt.name} can be written but not read")
    used = {k: v for k, v in hints.items() if v is not None and k in fmt.hints}
    try:
        return fmt.read(p, **used)
    except FormatError:
        raise
    except ValidationError as exc:
        raise FormatError(p, fmt.name, f"the content is not a valid {fmt.kind} control: {exc}") from exc
    except TrajkitError:
        raise
    except _MALFORMED as exc:
        raise FormatError(p, fmt.name, f"malformed file ({type(exc).__name__}: {str(exc)[:200]})") from exc


def format_for_save(obj: Any, path: str | os.PathLike[str], format: str | None = None) -> Format:
    """The writer ``save`` would use for ``obj`` at ``path``."""
    if format:
        fmt = get_format(format)
        if fmt.write is None:
            raise UnsupportedError(f"format {fmt.name} is read-only")
        if not isinstance(obj, fmt.writes):
            raise UnsupportedError(f"format {fmt.name} cannot hold a {type(obj).__name__} "
                                   f"(it holds {', '.join(t.__name__ for t in fmt.writes)})")
        return fmt
    suffix = "".join(Path(path).suffixes[-1:]).lower()
    for fmt in formats():
        if fmt.write is not None and suffix in fmt.extensions and isinstance(obj, fmt.writes):
            return fmt
    choices = [f"{f.name} ({'/'.join(f.extensions)})" for f in formats() if f.write and isinstance(obj, f.writes)]
    raise UnknownFormatError(
        f"{path}: no writer for a {type(obj).__name__} with extension {suffix or 'none'!r}; "
        f"use one of: {', '.join(choices)}"
    )


def save(obj: Any, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> Path:
    """Write ``obj`` to ``path`` in ``format`` (default: from the extension; ``.json``/``.npz`` → native).

    Writes are atomic. A format with a fixed timeline (ATI: 121 frames at 24 fps) refuses other
    timelines; resample first (``trajkit convert`` does it for you).
    """
    fmt = format_for_save(obj, path, format)
    assert fmt.write is not None
    fmt.write(obj, Path(path), **options)
    return Path(path)
