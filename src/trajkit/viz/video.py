"""MP4 writing and reading (PyAV, H.264, yuv420p — plays in browsers), atomic like every trajkit output."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import numpy as np

from ..core.errors import TrajkitError, ValidationError
from ..formats._io import atomic_write


def write_mp4(path: str | os.PathLike[str], frames: np.ndarray, fps: float, crf: int = 20) -> Path:
    """Write ``frames (T, H, W, 3)`` uint8 RGB as H.264 MP4 at ``fps`` (odd sizes are padded by one pixel)."""
    import av

    video = np.asarray(frames)
    if video.ndim != 4 or video.shape[-1] != 3 or video.dtype != np.uint8 or len(video) == 0:
        raise ValidationError("frames", "(T, H, W, 3) uint8 with T ≥ 1", f"{video.shape} {video.dtype}",
                              where="write_mp4")
    pad_h, pad_w = video.shape[1] % 2, video.shape[2] % 2
    if pad_h or pad_w:
        video = np.pad(video, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    from fractions import Fraction

    rate = Fraction(fps).limit_denominator(1001)

    def encode(fh: IO[bytes]) -> None:
        with av.open(fh, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.width, stream.height = video.shape[2], video.shape[1]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": "veryfast", "movflags": "+faststart"}
            for frame in video:
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)

    return atomic_write(path, encode)


def read_mp4(path: str | os.PathLike[str], max_frames: int | None = None,
             size: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """All frames ``(T, H, W, 3)`` uint8 RGB and the frame rate of a video file.

    With ``max_frames`` and/or ``size`` (W, H) the video is checked while it is decoded, so a longer or larger file is
    refused after at most ``max_frames + 1`` frames instead of being read whole into memory.
    """
    import av

    frames = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.base_rate or 0)
            if size is not None and (stream.width, stream.height) != tuple(size):
                raise TrajkitError(f"{path}: the video is {stream.width}×{stream.height}, expected {size[0]}×{size[1]}")
            for frame in container.decode(stream):
                if max_frames is not None and len(frames) == max_frames:
                    raise TrajkitError(f"{path}: the video has more than {max_frames} frames")
                frames.append(frame.to_ndarray(format="rgb24"))
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise TrajkitError(f"{path}: not a readable video ({exc})") from exc
    if not frames:
        raise TrajkitError(f"{path}: the video has no frames")
    return np.stack(frames), fps
