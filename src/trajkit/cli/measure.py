"""Motion transfer: ``trajkit tracks from-video`` and ``trajkit camera from-video`` take controls from a video."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..core.errors import TrajkitError
from ._common import TRACKER_HELP, fail, out, parse_points, parse_size, print_json, progress_bar, save_for_target
from .summary import summarise


def parse_grid(text: str) -> tuple[int, int]:
    """``"16x16"`` or ``"16"`` → ``(16, 16)`` (columns, rows)."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
        if len(parts) == 1:
            parts *= 2
        if len(parts) != 2 or min(parts) < 1 or parts[0] * parts[1] > 100_000:
            raise ValueError
    except ValueError:
        fail(f"--grid expects COLSxROWS (at most 100 000 points), e.g. 16x16; got {text!r}")
    return parts[0], parts[1]


def _written(obj: Any, output: Path, format_name: str, as_json: bool, quiet: bool, what: str) -> None:
    """Report a written control: JSON (output, format, summary) or one ``wrote …`` line."""
    if as_json:
        print_json({"output": str(output), "output_format": format_name, "summary": summarise(obj)})
    elif not quiet:
        out.print(f"[green]wrote[/] {output} ([bold]{format_name}[/]): {what}")


def _read(video: Path, size: str | None, max_frames: int) -> tuple[Any, float]:
    from ..measure.video import read_video

    try:
        return read_video(video, size=parse_size(size, "--size") if size else None, max_frames=max_frames)
    except TrajkitError as exc:
        fail(str(exc))
        raise


def tracks_from_video(
    video: Path = typer.Argument(..., help="Reference video (mp4, mov, mkv, webm, …)."),
    output: Path = typer.Option(..., "--output", "-o", help="Tracks file to write (extension or --to picks the "
                                "format: .pth = ATI, .json = trajkit, wan-move, comfyui …)."),
    grid: str | None = typer.Option(None, "--grid", help="A COLSxROWS grid of points at --frame (default 8x8)."),
    points: str | None = typer.Option(None, "--points", help="Points 'x,y x,y …' in pixels of the video at --frame."),
    frame: int = typer.Option(0, "--frame", help="Frame where the points are picked (tracked both ways)."),
    tracker: str = typer.Option("lk", "--tracker", help=TRACKER_HELP),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="CoTracker3 checkpoint file (.pth)."),
    download: bool = typer.Option(False, "--download", help="Allow downloading CoTracker3's weights."),
    device: str = typer.Option("cpu", "--device", help="Device for CoTracker3 (cpu, cuda, …)."),
    size: str | None = typer.Option(None, "--size", help="Resize the video to WxH first (the tracks' canvas)."),
    max_frames: int = typer.Option(1000, "--max-frames", help="Refuse longer videos (frames are held in memory)."),
    to: str | None = typer.Option(None, "--to", help="Output format name (see `trajkit formats`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or message."),
) -> None:
    """Take point tracks from a video (motion transfer): track a grid or chosen points through it.

    The tracks keep the tracker's visibility; formats with a fixed timeline (ATI: 121 frames at 24 fps) get
    the whole motion fitted onto it.

    Examples:

        trajkit tracks from-video dance.mp4 --grid 16x16 -o dance.pth

        trajkit tracks from-video car.mp4 --points "320,240 400,260" --tracker cotracker3 -o car.json
    """
    from ..measure.queries import grid_queries, point_queries
    from ..measure.trackers import TRACKERS, track_video

    if tracker not in TRACKERS:
        fail(f"--tracker: unknown tracker {tracker!r}; choose one of {', '.join(TRACKERS)}")
    if grid is not None and points is not None:
        fail("give --grid or --points, not both")
    frames, fps = _read(video, size, max_frames)
    canvas = (frames.shape[2], frames.shape[1])
    queries = (point_queries(parse_points(points, "--points"), frame) if points is not None
               else grid_queries(canvas, parse_grid(grid or "8x8"), frame))
    bar = progress_bar(quiet or as_json)
    try:
        with bar:
            task = bar.add_task(f"tracking {len(queries)} points ({tracker})", total=None)
            tracks = track_video(frames, queries, tracker=tracker, fps=fps, checkpoint=checkpoint,
                                 download=download, device=device,
                                 progress=lambda d, t: bar.update(task, completed=d, total=t))
        tracks = tracks.replace(meta={**tracks.meta, "source_video": video.name})
        tracks, target = save_for_target(tracks, output, to)
    except TrajkitError as exc:
        fail(str(exc))
    _written(tracks, output, target.name, as_json, quiet,
             f"{tracks.num_tracks} tracks × {tracks.num_frames} frames on {canvas[0]}×{canvas[1]}, "
             f"visible {float(tracks.visible.mean()):.0%} of the time")


def camera_from_video(
    video: Path = typer.Argument(..., help="Reference video."),
    output: Path = typer.Option(..., "--output", "-o", help="Camera file to write (extension or --to picks it)."),
    hfov: float | None = typer.Option(None, "--hfov", help="Known horizontal field of view in degrees "
                                      "(default: estimate the focal length)."),
    method: str = typer.Option("auto", "--method", help="colmap (pycolmap SfM), essential (OpenCV two-view "
                               "chaining, short clips) or auto (colmap, then essential)."),
    size: str | None = typer.Option(None, "--size", help="Resize the video to WxH first (the camera's canvas)."),
    max_frames: int = typer.Option(1000, "--max-frames", help="Refuse longer videos."),
    to: str | None = typer.Option(None, "--to", help="Output format name (see `trajkit formats`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or message."),
) -> None:
    """Estimate the camera path of a video (structure from motion) and save it in any camera format.

    The path starts at the identity (OpenCV axes) and its scale is unknown (metric: false).

    Examples:

        trajkit camera from-video drone.mp4 -o drone.json

        trajkit camera from-video shot.mp4 --hfov 60 -o shot.txt --to re10k-txt
    """
    from ..core.camera import intrinsics_from_fov
    from ..measure.camera import estimate_camera

    if method not in ("auto", "colmap", "essential"):
        fail(f"--method: expected auto, colmap or essential; got {method!r}")
    frames, fps = _read(video, size, max_frames)
    canvas = (frames.shape[2], frames.shape[1])
    K = intrinsics_from_fov(canvas, hfov) if hfov is not None else None
    bar = progress_bar(quiet or as_json)
    tasks: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        with bar:
            camera = estimate_camera(frames, fps=fps, K=K, method=method, progress=progress)
        camera = camera.replace(meta={**camera.meta, "source_video": video.name})
        camera, target = save_for_target(camera, output, to)
    except TrajkitError as exc:
        fail(str(exc))
    _written(camera, output, target.name, as_json, quiet,
             f"{camera.num_frames} frames, {camera.meta.get('method', '?')}, scale unknown (metric: false)")
