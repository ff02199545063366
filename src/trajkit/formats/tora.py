"""Tora / MotionCtrl trajectory text: one ``x,y`` (or ``x, y``) point per line on a 256×256 canvas.

One file holds one track; points are the trajectory's samples in order (Tora spreads them over the
video; repeated points encode pauses), at least two of them (one point is no trajectory). There is no
visibility and no fps (default 8, CogVideoX's rate; pass ``fps=``). Values are written as integers when
they are whole numbers, otherwise as floats.
"""

from __future__ import annotations

import re
from array import array
from pathlib import Path

import numpy as np

from ..core.errors import FormatError, UnsupportedError
from ..core.tracks import Tracks
from ._io import atomic_write_text, parse_float, text_lines
from .registry import Format, register

NAME = "tora-txt"
CANVAS = (256, 256)
DEFAULT_FPS = 8.0
_LINE = re.compile(rb"^\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*,\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*$")


def read(path: Path, fps: float = DEFAULT_FPS, size: tuple[int, int] | None = None) -> Tracks:
    """Read one track of ``x,y`` lines (canvas 256×256 unless ``size`` says otherwise).

    The file is streamed (blank lines cost nothing); a trajectory needs at least two points.
    """
    xs: array[float] = array("d")
    ys: array[float] = array("d")
    for lineno, line in text_lines(path, NAME):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != 2:
            raise FormatError(path, NAME, f"line {lineno} is not 'x,y'", found=repr(line[:40]))
        xs.append(parse_float(parts[0].strip(), path, NAME, f"line {lineno}"))
        ys.append(parse_float(parts[1].strip(), path, NAME, f"line {lineno}"))
    if len(xs) < 2:
        raise FormatError(path, NAME, f"{len(xs)} point{'' if len(xs) == 1 else 's'}: too short for a trajectory",
                          expected="at least 2 'x,y' lines (one point per frame)", found=f"{len(xs)}")
    xy = np.stack([np.frombuffer(xs, dtype=np.float64), np.frombuffer(ys, dtype=np.float64)], axis=-1)[:, None, :]
    return Tracks(xy=xy, visible=np.ones(xy.shape[:2], bool), size=size or CANVAS, fps=fps,
                  meta={"source_format": NAME})


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def write(tracks: Tracks, path: Path, track: int | None = None) -> None:
    """Write track ``track`` (default: the only one) on the 256×256 canvas (rescaled if needed)."""
    if track is None:
        if tracks.num_tracks > 1:
            raise UnsupportedError(f"{path}: Tora text holds one track, the tracks have {tracks.num_tracks}; "
                                   "choose one with track=K")
        track = 0
    if not 0 <= track < tracks.num_tracks:
        raise UnsupportedError(f"{path}: track={track} but there are {tracks.num_tracks} tracks")
    t = tracks.select([track])
    if t.size is not None and t.size != CANVAS:
        t = t.rescale(CANVAS)
    lines = [f"{_num(x)},{_num(y)}" for x, y in t.xy[:, 0].astype(np.float64)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def sniff(path: Path, head: bytes) -> bool:
    """Text whose first non-empty line is two comma-separated numbers."""
    for line in head.splitlines():
        if line.strip():
            return bool(_LINE.match(line))
    return False


FORMAT = register(Format(
    name=NAME,
    title="Tora / MotionCtrl trajectory text (x,y per line, 256×256)",
    kind="tracks",
    extensions=(".txt",),
    sniff=sniff,
    read=read,
    write=write,
    writes=(Tracks,),
    hints=("fps", "size"),
    notes="One track, 256×256 canvas, no visibility, fps not stored (default 8).",
    options={"track": "which track to write when there are several"},
))
