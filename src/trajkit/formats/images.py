"""Image facts the readers need (the canvas size of an image), read from the header only."""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import TrajkitError


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(W, H)`` of an image file, reading only its header (no pixel decode, no EXIF rotation).

    ATI uses PIL's size without EXIF orientation handling; so does this.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    try:
        with Image.open(p) as im:
            return int(im.size[0]), int(im.size[1])
    except FileNotFoundError as exc:
        raise TrajkitError(f"{p}: image not found") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise TrajkitError(f"{p}: not a readable image ({exc})") from exc
