"""``trajkit camera``: author a camera path from words (``camera moves``, the default) or take one from a video
(``camera from-video``, in :mod:`trajkit.cli.measure`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..core.errors import TrajkitError
from ._common import fail, group_with_default, out, parse_size, print_json, save_for_target
from .summary import summarise

camera_app = group_with_default(
    "moves", help="Camera paths: author one from moves (`trajkit camera moves \"dolly in 1m\"`, or just "
                  "`trajkit camera \"dolly in 1m\"`) or estimate one from a video (`camera from-video`).")


@camera_app.command("moves")
def camera_moves(
    moves: str = typer.Argument(..., help="Moves, e.g. \"dolly in 1m over 2s, then pan left 30deg\"."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file (extension or --to picks the format)."),
    to: str | None = typer.Option(None, "--to", help="Output format name (see `trajkit formats`)."),
    fps: float = typer.Option(16.0, "--fps", help="Frame rate of the rendered path."),
    size: str = typer.Option("832x480", "--size", help="Image size WxH the intrinsics refer to."),
    hfov: float = typer.Option(60.0, "--hfov", help="Horizontal field of view in degrees (before any zoom)."),
    frames: int | None = typer.Option(None, "--frames", help="Resample the move onto exactly this many frames."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
) -> None:
    """Author a camera path from a short move description and save it.

    Grammar: steps separated by `,` / `;` / `then` run one after another; moves joined by `and` / `while`
    run together. A move is `VERB [DIRECTION] AMOUNT [over DURATION] [around DISTANCE] [EASING]`:
    pan/tilt/roll/orbit take degrees (`30deg`), truck/pedestal/dolly/crane metres (`1m`, `50cm`),
    zoom a ratio (`2x`); `hold 1s` waits. Positive = right / up / in / forward.

    Examples:

        trajkit camera "dolly in 1m over 2s, then pan left 30deg" -o cam.json

        trajkit camera "orbit right 90deg around 4m over 4s linear" -o orbit.txt --to re10k-txt

        trajkit camera "pedestal up 0.5m while tilt down 10deg, hold 1s, zoom in 2x" -o cam.json
    """
    from ..author.grammar import parse_moves

    canvas = parse_size(size, "--size")
    try:
        move = parse_moves(moves)
        path: Any = move.path(fps=fps, size=canvas, hfov=hfov)  # type: ignore[arg-type]
        if frames is not None:
            path = path.resample(frames)
        path, target = save_for_target(path, output, to)
    except TrajkitError as exc:
        fail(str(exc))
    result = {"moves": repr(move), "output": str(output), "output_format": target.name, "summary": summarise(path)}
    if as_json:
        print_json(result)
    elif not quiet:
        out.print(f"[green]wrote[/] {output} ([bold]{target.name}[/]): {path.num_frames} frames at {path.fps:g} fps, "
                  f"{move!r}")
