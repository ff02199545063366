"""Videos to measure: read a file in bounded memory, or check an array, as ``(T, H, W, 3)`` uint8 RGB.

A measured video is held whole (trackers look at every frame), so its size is bounded up front: at most
``max_frames`` frames and ``max_bytes`` of decoded pixels, refused while decoding rather than after.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import TrajkitError

#: Default bounds: 1000 frames and 4 GiB of decoded RGB (81 frames of 1280×720 are 224 MB).
MAX_FRAMES = 1000
MAX_BYTES = 4 << 30


def check_video(video: np.ndarray, what: str = "video") -> np.ndarray:
    """``video`` as a C-contiguous uint8 ``(T, H, W, 3)`` array (T ≥ 2, H and W ≥ 8), else a TrajkitError."""
    arr = np.asarray(video)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise TrajkitError(f"{what}: expected frames of shape (T, H, W, 3), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise TrajkitError(f"{what}: expected uint8 RGB frames, got {arr.dtype}")
    if arr.shape[0] < 2:
        raise TrajkitError(f"{what}: {arr.shape[0]} frame(s); measuring motion needs at least 2")
    if min(arr.shape[1:3]) < 8:
        raise TrajkitError(f"{what}: frames of {arr.shape[2]}×{arr.shape[1]} are too small to measure (≥ 8×8)")
    return np.ascontiguousarray(arr)


def read_video(path: str | os.PathLike[str], *, max_frames: int = MAX_FRAMES, max_bytes: int = MAX_BYTES,
               size: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """Decode a video file to ``(frames (T, H, W, 3) uint8 RGB, fps)``.

    ``size`` (W, H) resizes every frame while decoding (area filter when shrinking). A file with more than
    ``max_frames`` frames or more than ``max_bytes`` of decoded pixels is refused as soon as that is known.
    """
    import av
    import cv2

    p = Path(path)
    if not p.is_file():
        raise TrajkitError(f"{p}: no such video file")
    frames: list[np.ndarray] = []
    total = 0
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise TrajkitError(f"{p}: the file has no video stream")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.base_rate or 16.0)
            for frame in container.decode(stream):
                rgb = frame.to_ndarray(format="rgb24")
                if size is not None and (rgb.shape[1], rgb.shape[0]) != tuple(size):
                    shrink = size[0] < rgb.shape[1]
                    rgb = cv2.resize(rgb, tuple(size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
                total += rgb.nbytes
                if len(frames) == max_frames:
                    raise TrajkitError(f"{p}: more than {max_frames} frames; cut the clip (e.g. ffmpeg -t) first")
                if total > max_bytes:
                    raise TrajkitError(f"{p}: more than {max_bytes >> 20} MiB of decoded frames; give a shorter or "
                                       "smaller clip")
                frames.append(rgb)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise TrajkitError(f"{p}: not a readable video ({exc})") from exc
    if not frames:
        raise TrajkitError(f"{p}: the video has no frames")
    return check_video(np.stack(frames), str(p)), fps
