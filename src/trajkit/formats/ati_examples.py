"""ATI's example list (``examples/test.yaml``): a YAML list of ``{image, text, track}`` mappings.

Paths are resolved relative to the YAML file's folder first, then to the current directory (ATI's own
file uses paths relative to its repository root). Each track file is read with its image's size as
the canvas. Prompts are stripped, as ATI's ``generate.py`` does. Parsed with ``yaml.safe_load``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..core.errors import FormatError
from ._io import read_text
from .ati_pth import read as read_ati_tracks
from .documents import AtiExample, AtiExamples
from .images import image_size
from .registry import Format, register

NAME = "ati-examples"


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
        doc = yaml.safe_load(read_text(path, NAME, limit=4 * 1024 * 1024))
    except yaml.YAMLError as exc:
        raise FormatError(path, NAME, f"invalid YAML ({exc})") from exc
    if not isinstance(doc, list) or not doc:
        raise FormatError(path, NAME, "not a list of examples", expected="a YAML list of {image, text, track}",
                          found=type(doc).__name__)
    base = path.parent
    items = []
    for k, entry in enumerate(doc):
        if not isinstance(entry, dict) or not {"image", "track"} <= entry.keys():
            raise FormatError(path, NAME, f"entry {k} lacks image/track", found=repr(entry)[:60])
        image = _resolve(base, entry["image"], "image", k, path)
        track = _resolve(base, entry["track"], "track", k, path)
        text = entry.get("text")
        text = "" if text is None else str(text).strip()
        tracks = read_ati_tracks(track, size=image_size(image))
        items.append(AtiExample(image=image, text=text, tracks=tracks, track_path=track))
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
