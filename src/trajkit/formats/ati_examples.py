"""ATI's example list (``examples/test.yaml``): a YAML list of ``{image, text, track}`` mappings.

Paths are resolved relative to the YAML file's folder first, then to the current directory (ATI's own
file uses paths relative to its repository root). Each track file is read with its image's size as
the canvas. Prompts are stripped, as ATI's ``generate.py`` does. Parsed with ``yaml.safe_load``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..core.errors import FormatError
from ..core.tracks import Tracks
from ._io import read_text
from .ati_pth import read as read_ati_tracks
from .documents import AtiExample, AtiExamples
from .images import image_size
from .registry import Format, register

NAME = "ati-examples"
#: ATI's list is 1 KB (6 examples); PyYAML holds ≈ 70× its text while parsing, so larger lists are refused.
MAX_LIST_BYTES = 256 * 1024
#: The track files one list may name, added up (each read once however often it is named).
MAX_TRACK_BYTES = 64 * 1024 * 1024


def _resolve(base: Path, value: object, field: str, k: int, path: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise FormatError(path, NAME, f"entry {k}: {field!r} is not a path", found=repr(value)[:60])
    rel = Path(value.strip())
    for candidate in (base / rel, Path.cwd() / rel):
        if candidate.is_file():
            return candidate
    raise FormatError(path, NAME, f"entry {k}: {field} file not found", expected=f"{base / rel}", found="nothing")


def read(path: Path) -> AtiExamples:
    """Read the list and every track it names (tracks on the canvas of their image)."""
    try:
        doc = yaml.safe_load(read_text(path, NAME, limit=MAX_LIST_BYTES))
    except yaml.YAMLError as exc:
        raise FormatError(path, NAME, f"invalid YAML ({exc})") from exc
    if not isinstance(doc, list) or not doc:
        raise FormatError(path, NAME, "not a list of examples", expected="a YAML list of {image, text, track}",
                          found=type(doc).__name__)
    base = path.parent
    items = []
    read_tracks: dict[tuple[Path, tuple[int, int]], Tracks] = {}  # a file named twice is read once
    total = 0
    for k, entry in enumerate(doc):
        if not isinstance(entry, dict) or not {"image", "track"} <= entry.keys():
            raise FormatError(path, NAME, f"entry {k} lacks image/track", found=repr(entry)[:60])
        image = _resolve(base, entry["image"], "image", k, path)
        track = _resolve(base, entry["track"], "track", k, path)
        text = entry.get("text")
        text = "" if text is None else str(text).strip()
        key = (track.resolve(), image_size(image))
        if key not in read_tracks:
            total += track.stat().st_size
            if total > MAX_TRACK_BYTES:
                raise FormatError(path, NAME, f"entry {k}: the track files named so far are too large together",
                                  expected=f"at most {MAX_TRACK_BYTES} bytes", found=f"{total} bytes")
            read_tracks[key] = read_ati_tracks(track, size=key[1])
        items.append(AtiExample(image=image, text=text, tracks=read_tracks[key], track_path=track))
    return AtiExamples(items=tuple(items))


def sniff(path: Path, head: bytes) -> bool:
    """YAML (``.yaml``/``.yml``) mentioning ``image:`` and ``track:``."""
    return path.suffix.lower() in (".yaml", ".yml") and b"image:" in head and b"track:" in head


FORMAT = register(Format(
    name=NAME,
    title="ATI examples list (YAML of image/text/track)",
    kind="document",
    extensions=(".yaml", ".yml"),
    sniff=sniff,
    read=read,
    notes="Returns AtiExamples; each item's tracks use its image's size.",
))
