"""``trajkit tracks``: author point tracks (paths with a speed profile, circle zoom, static anchors).

``tracks from-video`` lives in :mod:`trajkit.cli.measure`; ``main`` adds it to this group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..core.errors import TrajkitError
from ..core.tracks import Tracks
from ..formats.registry import load
from ._common import fail, out, parse_points, parse_size, print_json, save_for_target
from .summary import summarise

tracks_app = typer.Typer(help="Author point tracks: paths with a speed profile, circle zoom, static anchors.",
                         no_args_is_help=True)


def _write_tracks(new: Tracks, output: Path, append: bool, to: str | None, as_json: bool) -> None:
    try:
        if append and output.exists():
            old = load(output)
            if not isinstance(old, Tracks):
                fail(f"{output} holds a {type(old).__name__}, not tracks; cannot append")
            new = Tracks.concatenate([old, new])
        new, target = save_for_target(new, output, to)
    except TrajkitError as exc:
        fail(str(exc))
    if as_json:
        print_json({"output": str(output), "output_format": target.name, "summary": summarise(new)})
    else:
        out.print(f"[green]wrote[/] {output} ([bold]{target.name}[/]): {new.num_tracks} tracks × {new.num_frames} "
                  f"frames at {new.fps:g} fps on {new.size[0]}×{new.size[1]}")  # type: ignore[index]


_FRAMES = typer.Option(81, "--frames", min=2, help="Frames (Wan: 81; ATI files: 121).")
_FPS = typer.Option(16.0, "--fps", min=1e-3, help="Frame rate (Wan: 16; ATI files: 24).")
_SIZE = typer.Option("832x480", "--size", help="Canvas WxH in pixels (the image the tracks belong to).")
_OUT = typer.Option(..., "--output", "-o", help="Output tracks file (extension or --to picks the format).")
_APPEND = typer.Option(False, "--append", help="Add to the tracks already in the output file.")
_TO = typer.Option(None, "--to", help="Output format name.")
_JSON = typer.Option(False, "--json", help="Print the result as JSON.")


@tracks_app.command("path")
def tracks_path(
    points: str = typer.Argument(..., help="Control points 'x,y x,y ...' in pixels."),
    output: Path = _OUT, frames: int = _FRAMES, fps: float = _FPS, size: str = _SIZE,
    speed: str = typer.Option("linear", "--speed", help="linear, ease-in, ease-out, ease-in-out, or speeds "
                              "'1,2,4,2' sampled over the move."),
    start: int = typer.Option(0, "--start", help="First frame of the motion (invisible before)."),
    end: int | None = typer.Option(None, "--end", help="Frame after the motion (invisible from there)."),
    closed: bool = typer.Option(False, "--closed", help="Close the curve into a loop."),
    append: bool = _APPEND, to: str | None = _TO, as_json: bool = _JSON,
) -> None:
    """A track along a smooth curve through control points, timed by a speed profile (not drawing speed).

    Example: trajkit tracks path "100,300 400,200 700,320" --speed ease-in-out -o tracks.json
    """
    from ..author import path_track

    if not 0 <= start < (frames if end is None else end) <= frames:
        fail(f"--start/--end: expected 0 ≤ --start < --end ≤ --frames ({frames}); got --start {start}, --end {end}")
    profile: Any = speed
    if speed[:1].isdigit():
        try:
            profile = [float(v) for v in speed.split(",")]
        except ValueError:
            fail(f"--speed expects a profile name or speeds like 1,2,4,2; got {speed!r}")
    try:
        new = path_track(parse_points(points, "POINTS"), frames=frames, fps=fps, size=parse_size(size, "--size"),
                         speed=profile, closed=closed, start=start, end=end)  # type: ignore[arg-type]
    except TrajkitError as exc:
        fail(str(exc))
    _write_tracks(new, output, append, to, as_json)


@tracks_app.command("circle")
def tracks_circle(
    center: str = typer.Option(..., "--center", help="Circle centre 'x,y' in pixels."),
    radius: str = typer.Option(..., "--radius", help="'START:END' radius in pixels (growing = zoom in)."),
    count: int = typer.Option(4, "--count", help="Points on the circle."),
    output: Path = _OUT, frames: int = _FRAMES, fps: float = _FPS, size: str = _SIZE,
    append: bool = _APPEND, to: str | None = _TO, as_json: bool = _JSON,
) -> None:
    """ATI's circular camera control: points on a circle whose radius changes (zoom in / out).

    Example: trajkit tracks circle --center 416,240 --radius 40:160 -o zoom.json
    """
    from ..author import circle_zoom

    try:
        r0, r1 = (float(v) for v in radius.split(":"))
    except ValueError:
        fail(f"--radius expects START:END in pixels, e.g. 40:160; got {radius!r}")
    try:
        new = circle_zoom(parse_points(center, "--center")[0], r0, r1, count=count, frames=frames, fps=fps,
                          size=parse_size(size, "--size"))  # type: ignore[arg-type]
    except TrajkitError as exc:
        fail(str(exc))
    _write_tracks(new, output, append, to, as_json)


@tracks_app.command("static")
def tracks_static(
    points: str = typer.Argument(..., help="Anchor points 'x,y x,y ...' in pixels."),
    output: Path = _OUT, frames: int = _FRAMES, fps: float = _FPS, size: str = _SIZE,
    append: bool = _APPEND, to: str | None = _TO, as_json: bool = _JSON,
) -> None:
    """Static anchors that hold parts of the image still.

    Example: trajkit tracks static "80,400 750,420" -o tracks.json --append
    """
    from ..author import static_points

    try:
        new = static_points(parse_points(points, "POINTS"), frames=frames, fps=fps,
                            size=parse_size(size, "--size"))  # type: ignore[arg-type]
    except TrajkitError as exc:
        fail(str(exc))
    _write_tracks(new, output, append, to, as_json)
