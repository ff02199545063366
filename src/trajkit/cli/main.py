"""The ``trajkit`` command line (typer + rich).

Every command turns bad input into one red line naming the problem (exit code 1) instead of a traceback;
``--json`` prints machine-readable results for scripts.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import __version__
from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError
from ..core.retime import fit_timeline
from ..core.tracks import Tracks
from ..formats import documents as docs
from ..formats.images import EXAMPLE_PREFIX, bundled_example, load_depth
from ..formats.registry import Format, detect, format_for_save, formats, get_format, load, save
from .summary import summarise

app = typer.Typer(
    name="trajkit",
    help=(
        "trajkit: trajectory-controlled video generation.\n\n"
        "Point tracks (ATI), camera paths (GenDoP) and 6-DoF entity paths (3DTrajMaster) are one family of "
        "controls: inspect them with `info`, move them between formats with `convert`, list formats with "
        "`formats`."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
out = Console()
err = Console(stderr=True)

def _version(value: bool) -> None:
    if value:
        out.print(f"trajkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """trajkit command line."""


# ---------------------------------------------------------------------------- helpers
def _fail(message: str) -> None:
    """Print ``error: message`` (taken literally: ``[director]`` is not Rich markup) and exit 1."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def resolve_input(path: str) -> Path:
    """A file path, or ``example:NAME`` for a file bundled with trajkit (``example:tracks``, ``example:camera``)."""
    if path.startswith(EXAMPLE_PREFIX):
        try:
            return bundled_example(path[len(EXAMPLE_PREFIX):])
        except TrajkitError as exc:
            _fail(str(exc))
    return Path(path)


def parse_size(text: str | None, option: str) -> tuple[int, int] | None:
    """``"832x480"`` → ``(832, 480)``."""
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
        if w <= 0 or h <= 0:
            raise ValueError
    except ValueError:
        _fail(f"{option} expects WIDTHxHEIGHT in pixels, e.g. 832x480; got {text!r}")
    return w, h


def _camera_hint(camera: str | None) -> str | int | None:
    if camera is None:
        return None
    return int(camera) if camera.isdigit() else camera


def _load(path: Path, fmt: str | None, hints: dict[str, Any]) -> tuple[Any, Format]:
    f = get_format(fmt) if fmt else detect(path)
    return load(path, format=f.name, **hints), f


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _print_summary(title: str, summary: dict[str, Any]) -> None:
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list) and len(value) > 12:
            value = f"{value[:12]} ... ({len(value)} items)"
        table.add_row(key.replace("_", " "), "unknown" if value is None else str(value))
    out.print(table)


# ---------------------------------------------------------------------------- info
@app.command()
def info(
    file: str = typer.Argument(..., help="A control file, or `example:NAME` for a bundled example."),
    fmt: str | None = typer.Option(None, "--from", help="Format name; skips detection (see `trajkit formats`)."),
    size: str | None = typer.Option(
        None, "--size", "--canvas", help="Canvas WxH for formats that do not store it (ATI .pth, ComfyUI JSON)."
    ),
    image: Path | None = typer.Option(None, "--image", help="The image the tracks belong to (sets the canvas)."),
    fps: float | None = typer.Option(None, "--fps", help="Frame rate for formats that do not store it."),
    camera: str | None = typer.Option(None, "--camera", help="Camera name or 1-based number in multi-camera files."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Show what a file holds: type, frames, fps, canvas, tracks / camera extent / entities, format detected.

    Examples:

        trajkit info tracks/bear.pth --image images/bear.jpg

        trajkit info case1_transforms_cleaning.json --json
    """
    path = resolve_input(file)
    hints = {"size": parse_size(size, "--size"), "image": image, "fps": fps, "camera": _camera_hint(camera)}
    try:
        obj, f = _load(path, fmt, hints)
    except TrajkitError as exc:
        _fail(str(exc))
    summary = {"file": str(path), "format": f.name, **summarise(obj)}
    if as_json:
        _print_json(summary)
    else:
        _print_summary(f"{path.name} — {f.title}", summary)


# ---------------------------------------------------------------------------- convert
def _select_camera(obj: Any, camera: str | None, target: Format) -> Any:
    if isinstance(obj, docs.CameraSet) and not isinstance(obj, target.writes):
        if camera is None:
            _fail(f"the input holds {len(obj.cameras)} cameras ({', '.join(obj.names[:4])}, ...) and "
                  f"{target.name} holds one; choose with --camera NAME|NUMBER")
        return obj.get(_camera_hint(camera))  # type: ignore[arg-type]
    return obj


def _retime(obj: Any, frames: int | None, fps: float | None, method: str) -> Any:
    if frames is None and fps is None:
        return obj
    if isinstance(obj, docs.CameraSet):
        return docs.CameraSet({k: _retime(c, frames, fps, method) for k, c in obj.cameras.items()}, obj.meta)
    if isinstance(obj, (Tracks, CameraPath, EntityPaths)):
        n = frames if frames is not None else max(1, round(obj.duration * fps) + 1)  # type: ignore[operator]
        if isinstance(obj, Tracks):
            return obj.resample(n, fps, method=method)  # type: ignore[arg-type]
        return obj.resample(n, fps)
    _fail(f"a {type(obj).__name__} cannot be resampled")
    return obj


def save_for_target(obj: Any, output: Path, to: str | None) -> tuple[Any, Format]:
    """Save ``obj`` in format ``to`` (or by extension), fitting fixed-timeline formats first."""
    target = get_format(to) if to else format_for_save(obj, output)
    if target.frames is not None and getattr(obj, "num_frames", target.frames) != target.frames:
        obj = fit_timeline(obj, target.frames, target.fps)  # type: ignore[arg-type]
    save(obj, output, format=target.name)
    return obj, target


def _rescale(obj: Any, size: tuple[int, int] | None, mode: str) -> Any:
    if size is None:
        return obj
    if isinstance(obj, Tracks):
        return obj.rescale(size, mode)  # type: ignore[arg-type]
    if isinstance(obj, CameraPath):
        return obj.rescale(size)
    if isinstance(obj, EntityPaths) and obj.camera is not None:
        return obj.with_camera(obj.camera.rescale(size))
    if isinstance(obj, docs.CameraSet):
        return docs.CameraSet({k: c.rescale(size) for k, c in obj.cameras.items()}, obj.meta)
    _fail(f"--size does not apply to a {type(obj).__name__}")
    return obj


@app.command()
def convert(
    src: str = typer.Argument(..., help="Input file (any readable format, or `example:NAME`)."),
    dst: Path = typer.Argument(..., help="Output file; its extension picks the format unless --to is given."),
    to: str | None = typer.Option(None, "--to", help="Output format name (see `trajkit formats`)."),
    fmt: str | None = typer.Option(None, "--from", help="Input format name; skips detection."),
    size: str | None = typer.Option(None, "--size", help="Rescale to this output canvas WxH."),
    resize_mode: str = typer.Option("resize", "--resize-mode", help="Tracks: `resize` (stretch) or `crop` "
                                    "(scale to cover, centre-crop, as ComfyUI does)."),
    fps: float | None = typer.Option(None, "--fps", help="Resample to this frame rate (by time)."),
    frames: int | None = typer.Option(None, "--frames", help="Resample to this many frames."),
    method: str = typer.Option("linear", "--method", help="Tracks resampling: `linear`, `nearest` or `ati` "
                               "(ATI / WanTrackToVideo index rule)."),
    canvas: str | None = typer.Option(None, "--canvas", help="Input canvas WxH for formats that do not store it."),
    image: Path | None = typer.Option(None, "--image", help="Input image the tracks belong to (sets the canvas)."),
    in_fps: float | None = typer.Option(None, "--in-fps", help="Input frame rate for formats that do not store it."),
    camera: str | None = typer.Option(None, "--camera", help="Camera to take from a multi-camera file."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
) -> None:
    """Convert a control between formats, optionally rescaling the canvas and resampling time.

    Formats with a fixed timeline (ATI .pth: 121 frames at 24 fps) are resampled to it automatically
    unless --frames/--fps say otherwise.

    Examples:

        trajkit convert bear.pth bear.json --image bear.jpg

        trajkit convert tracks.json tracks.pth --to ati-pth

        trajkit convert case1_transforms_cleaning.json cam.txt --to re10k-txt --frames 16
    """
    path = resolve_input(src)
    hints = {"size": parse_size(canvas, "--canvas"), "image": image, "fps": in_fps, "camera": _camera_hint(camera)}
    out_size = parse_size(size, "--size")
    if method not in ("linear", "nearest", "ati"):
        _fail(f"--method must be linear, nearest or ati; got {method!r}")
    if resize_mode not in ("resize", "crop"):
        _fail(f"--resize-mode must be resize or crop; got {resize_mode!r}")
    notes: list[str] = []
    try:
        source_fmt = get_format(fmt) if fmt else detect(path)
        obj = load(path, format=source_fmt.name, **hints)
        target = get_format(to) if to else None
        if target is not None:
            obj = _select_camera(obj, camera, target)
        obj = _rescale(obj, out_size, resize_mode)
        if target is None:
            target = format_for_save(obj, dst)
        fixed = target.frames is not None and getattr(obj, "num_frames", target.frames) != target.frames
        if frames is None and fps is None and fixed:
            before = obj.duration
            obj = fit_timeline(obj, target.frames, target.fps, method)  # type: ignore[arg-type]
            notes.append(f"whole motion mapped onto {obj.num_frames} frames at {obj.fps:g} fps for {target.name}"
                         + ("" if abs(before - obj.duration) < 1e-6 else f" ({before:g} s → {obj.duration:g} s)"))
        obj = _retime(obj, frames, fps, method)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            save(obj, dst, format=target.name)
        notes.extend(str(w.message) for w in caught)
    except TrajkitError as exc:
        _fail(str(exc))
    result = {"input": str(path), "input_format": source_fmt.name, "output": str(dst), "output_format": target.name,
              "notes": notes, "summary": summarise(obj)}
    if as_json:
        _print_json(result)
    elif not quiet:
        out.print(f"[green]wrote[/] {dst} ([bold]{target.name}[/]) from {path.name} ({source_fmt.name})")
        for note in notes:
            out.print(f"  [yellow]note:[/] {note}")


# ---------------------------------------------------------------------------- tracks
tracks_app = typer.Typer(help="Author point tracks: paths with a speed profile, circle zoom, static anchors.",
                         no_args_is_help=True)
app.add_typer(tracks_app, name="tracks")


def parse_points(text: str, option: str) -> list[tuple[float, float]]:
    """``"100,200 400,260"`` → ``[(100, 200), (400, 260)]``."""
    try:
        pts = [tuple(float(v) for v in pair.split(",")) for pair in text.replace(";", " ").split()]
        if not pts or any(len(p) != 2 for p in pts):
            raise ValueError
    except ValueError:
        _fail(f"{option} expects 'x,y x,y ...' in pixels, e.g. \"100,200 400,260\"; got {text!r}")
    return pts  # type: ignore[return-value]


def _write_tracks(new: Tracks, output: Path, append: bool, to: str | None, as_json: bool) -> None:
    try:
        if append and output.exists():
            old = load(output)
            if not isinstance(old, Tracks):
                _fail(f"{output} holds a {type(old).__name__}, not tracks; cannot append")
            new = Tracks.concatenate([old, new])
        new, target = save_for_target(new, output, to)
    except TrajkitError as exc:
        _fail(str(exc))
    if as_json:
        _print_json({"output": str(output), "output_format": target.name, "summary": summarise(new)})
    else:
        out.print(f"[green]wrote[/] {output} ([bold]{target.name}[/]): {new.num_tracks} tracks × {new.num_frames} "
                  f"frames at {new.fps:g} fps on {new.size[0]}×{new.size[1]}")  # type: ignore[index]


_FRAMES = typer.Option(81, "--frames", help="Frames (Wan: 81; ATI files: 121).")
_FPS = typer.Option(16.0, "--fps", help="Frame rate (Wan: 16; ATI files: 24).")
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

    profile: Any = speed
    if speed[:1].isdigit():
        profile = [float(v) for v in speed.split(",")]
    try:
        new = path_track(parse_points(points, "POINTS"), frames=frames, fps=fps, size=parse_size(size, "--size"),
                         speed=profile, closed=closed, start=start, end=end)  # type: ignore[arg-type]
    except TrajkitError as exc:
        _fail(str(exc))
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
        _fail(f"--radius expects START:END in pixels, e.g. 40:160; got {radius!r}")
    try:
        new = circle_zoom(parse_points(center, "--center")[0], r0, r1, count=count, frames=frames, fps=fps,
                          size=parse_size(size, "--size"))  # type: ignore[arg-type]
    except TrajkitError as exc:
        _fail(str(exc))
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
        _fail(str(exc))
    _write_tracks(new, output, append, to, as_json)


# ---------------------------------------------------------------------------- bridge
bridge_app = typer.Typer(help="Turn one control into another (camera path → tracks, ...).", no_args_is_help=True)
app.add_typer(bridge_app, name="bridge")


def _load_depth(path: Path) -> Any:
    try:
        return load_depth(path)
    except TrajkitError as exc:
        _fail(str(exc))


@bridge_app.command("camera-to-tracks")
def bridge_camera_to_tracks(
    camera_file: str = typer.Argument(..., help="Camera path file (any camera format, or `example:camera`)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output tracks file (extension or --to picks the format)."),
    image: Path | None = typer.Option(None, "--image", help="First-frame image: its size becomes the canvas."),
    depth: Path | None = typer.Option(None, "--depth", help="First-frame depth map .npy (camera-space z)."),
    grid: int = typer.Option(8, "--grid", help="Track a GRID×GRID grid of points."),
    fallback: str = typer.Option("plane", "--fallback", help="Without --depth: `plane` or `ground` (+ back wall)."),
    distance: float | None = typer.Option(None, "--distance", help="Plane/wall distance (default 3 m or 3× travel)."),
    height: float = typer.Option(1.5, "--height", help="Camera height above the ground for --fallback ground."),
    camera: str | None = typer.Option(None, "--camera", help="Camera to take from a multi-camera file."),
    to: str | None = typer.Option(None, "--to", help="Output format name."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Track scene points on the first frame as the camera moves (how a camera move drives ATI).

    Examples:

        trajkit bridge camera-to-tracks case1_transforms_cleaning.json --depth case1_depth.npy -o tracks.json

        trajkit bridge camera-to-tracks example:camera --image photo.jpg -o tracks.pth --fallback ground
    """
    from ..bridge import camera_to_tracks
    from ..formats.images import image_size

    try:
        cam = load_typed(camera_file, CameraPath, "a camera path", camera=_camera_hint(camera))
        if image is not None:
            cam = cam.rescale(image_size(image))
        tracks = camera_to_tracks(cam, depth=None if depth is None else _load_depth(depth), grid=grid,
                                  fallback=fallback, distance=distance, height=height)  # type: ignore[arg-type]
        tracks, target = save_for_target(tracks, output, to)
    except TrajkitError as exc:
        _fail(str(exc))
    summary = summarise(tracks)
    if as_json:
        _print_json({"output": str(output), "output_format": target.name, "summary": summary})
    else:
        out.print(f"[green]wrote[/] {output} ([bold]{target.name}[/]): {tracks.num_tracks} tracks × "
                  f"{tracks.num_frames} frames on {tracks.size[0]}×{tracks.size[1]}")  # type: ignore[index]


@bridge_app.command("entities-to-tracks")
def bridge_entities_to_tracks(
    entities_file: str = typer.Argument(..., help="Entity paths file (360°-Motion JSON or trajkit native)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output tracks file (extension or --to picks the format)."),
    camera: str | None = typer.Option(None, "--camera", help="Rig camera (1..12 or name) for 360°-Motion files."),
    ground: float | None = typer.Option(None, "--ground", help="Follow each pivot dropped onto the world plane "
                                        "y = GROUND (+y is down); 360°-Motion files default to 0."),
    footprint: int = typer.Option(4, "--footprint", help="Extra points on a ring around each entity."),
    radius: float = typer.Option(0.5, "--radius", help="Footprint ring radius in world units (metres)."),
    to: str | None = typer.Option(None, "--to", help="Output format name."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Project entity paths through their camera into point tracks (entity anchor + footprint ring).

    Examples:

        trajkit bridge entities-to-tracks D_loc1_61_t3n13_003d_Hemi12_1.json -o tracks.json

        trajkit bridge entities-to-tracks scene.json --camera 3 --footprint 0 -o tracks.pth
    """
    from ..bridge import entities_to_tracks

    path = resolve_input(entities_file)
    notes = []
    try:
        fmt = detect(path)
        ents = load(path, format=fmt.name, camera=_camera_hint(camera))
        if not isinstance(ents, EntityPaths):
            _fail(f"{path} holds a {type(ents).__name__}, not entity paths")
        if ground is None and fmt.name == "trajmaster-json":
            from ..formats.trajmaster import GROUND

            ground = GROUND
            notes.append("360°-Motion pivots float 1.47 m above the target plane; tracks follow their ground "
                         f"contact (--ground {GROUND:g})")
        tracks = entities_to_tracks(ents, footprint=footprint, radius=radius, ground=ground)
        tracks, target = save_for_target(tracks, output, to)
    except TrajkitError as exc:
        _fail(str(exc))
    if as_json:
        _print_json({"output": str(output), "output_format": target.name, "notes": notes,
                     "summary": summarise(tracks)})
    else:
        out.print(f"[green]wrote[/] {output} ([bold]{target.name}[/]): {tracks.num_tracks} tracks × "
                  f"{tracks.num_frames} frames")
        for note in notes:
            out.print(f"  [yellow]note:[/] {note}")


# ---------------------------------------------------------------------------- viz
viz_app = typer.Typer(help="Draw controls: tracks on images and videos, camera three-views, entity plots.",
                      no_args_is_help=True)
app.add_typer(viz_app, name="viz")


def load_typed(file: str, kind: type, noun: str, **hints: Any) -> Any:
    """Load ``file`` (or ``example:NAME``) and insist on one type, failing with one line otherwise."""
    obj = load(resolve_input(file), **hints)
    if not isinstance(obj, kind):
        extra = " (choose one with --camera)" if isinstance(obj, docs.CameraSet) else ""
        _fail(f"{file} holds a {type(obj).__name__}, not {noun}{extra}")
    return obj


def _tracks_for(tracks_file: str, size: tuple[int, int]) -> Tracks:
    """Load tracks (canvas defaulting to ``size``) and map them onto a ``size`` canvas."""
    tracks = load_typed(tracks_file, Tracks, "tracks", size=size)
    return tracks if tracks.size == size else tracks.rescale(size)


@viz_app.command("tracks")
def viz_tracks(
    image: Path = typer.Argument(..., help="The image the tracks belong to."),
    tracks_file: str = typer.Argument(..., help="Tracks file (canvas = the image unless the file says otherwise)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output image (.png / .jpg)."),
) -> None:
    """Draw tracks on an image, ATI style (green → red, start dot, arrowhead).

    Example: trajkit viz tracks bear.jpg bear.pth -o bear_tracks.png
    """
    import cv2

    from ..formats.images import load_image
    from ..viz.tracks import draw_tracks

    try:
        img = load_image(image)
        drawn = draw_tracks(img, _tracks_for(tracks_file, (img.shape[1], img.shape[0])))
        from ..formats._io import atomic_write_bytes

        ok, data = cv2.imencode(output.suffix or ".png", np.ascontiguousarray(drawn[..., ::-1]))
        if not ok:
            _fail(f"{output}: unsupported image extension (use .png or .jpg)")
        atomic_write_bytes(output, data.tobytes())
    except TrajkitError as exc:
        _fail(str(exc))
    out.print(f"[green]wrote[/] {output}")


@viz_app.command("overlay")
def viz_overlay(
    video: Path = typer.Argument(..., help="A video (mp4) to draw on."),
    tracks_file: str = typer.Argument(..., help="Tracks file; resampled onto the video's frames."),
    output: Path = typer.Option(..., "--output", "-o", help="Output video (.mp4)."),
    retain: int = typer.Option(12, "--retain", help="Trail length in frames."),
) -> None:
    """Draw fading track trails on a video (ATI's overlay, vectorised).

    Example: trajkit viz overlay outputs/000_fish/video.mp4 fish.pth -o fish_overlay.mp4
    """
    from ..viz.tracks import overlay_tracks
    from ..viz.video import read_mp4, write_mp4

    try:
        frames, fps = read_mp4(video)
        tracks = _tracks_for(tracks_file, (frames.shape[2], frames.shape[1]))
        if tracks.num_frames != len(frames):
            tracks = tracks.resample(len(frames))
        write_mp4(output, overlay_tracks(frames, tracks, retain=retain), fps or tracks.fps)
    except TrajkitError as exc:
        _fail(str(exc))
    out.print(f"[green]wrote[/] {output}")


@viz_app.command("camera")
def viz_camera(
    camera_file: str = typer.Argument(..., help="Camera path file (any camera format)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output PNG."),
    camera: str | None = typer.Option(None, "--camera", help="Camera to take from a multi-camera file."),
) -> None:
    """GenDoP-style three-view plot (front, top, side) of a camera path.

    Example: trajkit viz camera case1_transforms_cleaning.json -o case1.png
    """
    from ..viz.plots import camera_three_view

    try:
        camera_three_view(load_typed(camera_file, CameraPath, "one camera path", camera=_camera_hint(camera)), output)
    except TrajkitError as exc:
        _fail(str(exc))
    out.print(f"[green]wrote[/] {output}")


@app.command("tag")
def tag_camera(
    camera_file: str = typer.Argument(..., help="Camera path file (any camera format), or example:camera."),
    camera: str | None = typer.Option(None, "--camera", help="Camera to take from a multi-camera file."),
    seed: int | None = typer.Option(None, "--seed", help="Vary the caption's phrasing (default: plain wording)."),
    as_json: bool = typer.Option(False, "--json", help="Print segments and caption as JSON."),
) -> None:
    """Tag a camera path with DataDoP's motion classes and write its caption.

    Per step the camera's own motion is classed (27 translations × 7 rotations); a mode filter and
    short-run removal leave at most 4 segments, exactly as GenDoP's dataset tagger. Thresholds are
    absolute (DataDoP units, 30 fps): paths at another scale tag differently.

    Example: trajkit tag ../shared/data/gendop/text_rgbd/case1_transforms_cleaning.json
    """
    from ..director.captions import caption
    from ..director.tagging import outline, tag

    try:
        path = load_typed(camera_file, CameraPath, "one camera path", camera=_camera_hint(camera))
        segments = tag(path)
    except TrajkitError as exc:
        _fail(str(exc))
    text = caption(segments, seed=seed)
    if as_json:
        _print_json({"segments": [{"label": s.label, "name": s.name, "translation": s.translation,
                                   "rotation": s.rotation, "start": s.start, "end": s.end} for s in segments],
                     "caption": text, "outline": outline(segments).strip()})
        return
    out.print(f"{camera_file}: {path.num_frames} frames → {len(segments)} segments")
    table = Table()
    for col in ("steps", "label", "motion"):
        table.add_column(col)
    for s in segments:
        table.add_row(f"{s.start}–{s.end}", str(s.label), s.name)
    out.print(table)
    out.print(text)


@viz_app.command("entities")
def viz_entities(
    entities_file: str = typer.Argument(..., help="Entity paths file (360°-Motion JSON or native)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output PNG."),
) -> None:
    """Entity paths from above with the viewing camera.

    Example: trajkit viz entities D_loc1_61_t3n13_003d_Hemi12_1.json -o entities.png
    """
    from ..viz.plots import entities_top_view

    try:
        entities_top_view(load_typed(entities_file, EntityPaths, "entity paths"), output)
    except TrajkitError as exc:
        _fail(str(exc))
    out.print(f"[green]wrote[/] {output}")


# ---------------------------------------------------------------------------- generate / demo
def _run_job_file(job_file: Path, out_dir: Path, backend: str | None, as_json: bool, quiet: bool,
                  overrides: dict[str, Any] | None = None, options: dict[str, Any] | None = None,
                  dataset: Path | None = None, ids: list[str] | None = None,
                  evaluate_with: str | None = None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..jobs import load_jobs, run_jobs, summary
    from ..jobs.spec import override_jobs

    try:
        specs = override_jobs(load_jobs(job_file, dataset=dataset, ids=ids), overrides or {}, options or {})
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       console=err, disable=quiet or as_json)
        tasks: dict[str, Any] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        evaluations: list[dict[str, Any]] = []

        def on_result(r: Any) -> None:
            if not (quiet or as_json):
                colour = {"done": "green", "skipped": "cyan", "failed": "red"}[r.status]
                bar.console.print(f"[{colour}]{r.status}[/] {r.name}" + (f": {r.error}" if r.error else ""))
            if evaluate_with is not None and r.status == "done" and r.folder is not None:
                from .evaluate import evaluate_one

                evaluations.append(evaluate_one(r.folder, evaluate_with, progress))

        with bar:
            results = run_jobs(specs, job_file.resolve().parent, out_dir, backend=backend, progress=progress,
                               on_result=on_result)
    except TrajkitError as exc:
        _fail(str(exc))
    report = summary(results)
    if evaluate_with is not None:
        report["evaluation"] = evaluations
    if as_json:
        _print_json(report)
    elif not quiet:
        out.print(f"{report['done']} rendered, {report['skipped']} skipped, {report['failed']} failed → {out_dir}")
        for job in report["jobs"]:
            if job["folder"]:
                out.print(f"  report: {Path(job['folder']) / 'report.html'}")
    if evaluate_with is not None and evaluations and not as_json and not quiet:
        from .evaluate import print_table

        print_table(evaluations)
    if report["failed"] or any(e["status"] != "ok" for e in report.get("evaluation", [])):
        raise typer.Exit(1)


def _parse_set(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are read as YAML (numbers, booleans, lists) and otherwise kept as text."""
    import yaml

    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail(f"--set expects KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            options[key.strip()] = value
    return options


@app.command()
def generate(
    job_file: Path = typer.Argument(..., help="Job file (YAML/JSON: one job, a list, or ATI's test.yaml)."),
    output: Path = typer.Option(Path("outputs"), "--output", "-o", help="Folder for the job folders."),
    backend: str | None = typer.Option(None, "--backend",
                                       help="Override the jobs' backend: preview, wan-ati or cogvideox-3dtrajmaster."),
    frames: int | None = typer.Option(None, "--frames",
                                      help="Override frames per video (4k+1; Wan 81, CogVideoX 49 by default)."),
    fps: float | None = typer.Option(None, "--fps", help="Override the output frame rate."),
    size: str | None = typer.Option(None, "--size", help="Override the size: WIDTHxHEIGHT or 'auto' (ATI's rule)."),
    seed: int | None = typer.Option(None, "--seed", help="Override the seed."),
    base: str | None = typer.Option(None, "--base", rich_help_panel="Model",
                                    help="Diffusers base folder or HF repo id (Wan2.1 I2V / CogVideoX-5B)."),
    transformer: str | None = typer.Option(None, "--transformer", rich_help_panel="Model",
                                           help="[wan-ati] ATI transformer .safetensors file or folder."),
    injector: str | None = typer.Option(None, "--injector", rich_help_panel="Model",
                                        help="[cogvideox-3dtrajmaster] 3DTrajMaster injector folder or .safetensors."),
    lora: str | None = typer.Option(None, "--lora", rich_help_panel="Model",
                                    help="[cogvideox-3dtrajmaster] 3DTrajMaster's LoRA file or folder."),
    download: bool = typer.Option(False, "--download", rich_help_panel="Model",
                                  help="Allow downloading a missing base from the Hugging Face Hub."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps (wan-ati 40, CogVideoX 50).",
                                     rich_help_panel="Sampling"),
    guidance: float | None = typer.Option(None, "--guidance", help="CFG scale (wan-ati 5.0, CogVideoX 6).",
                                          rich_help_panel="Sampling"),
    window: str | None = typer.Option(None, "--window", rich_help_panel="Sampling",
                                      help="[wan-ati] START,END fractions of the steps that use the tracks (0,1)."),
    injector_steps: int | None = typer.Option(None, "--injector-steps", rich_help_panel="Sampling",
                                              help="[cogvideox-3dtrajmaster] Steps with injector + LoRA, then the "
                                                   "plain base (21 = 3DTrajMaster's annealed step 20)."),
    lora_scale: float | None = typer.Option(None, "--lora-scale", rich_help_panel="Sampling",
                                            help="[cogvideox-3dtrajmaster] LoRA weight (0.6)."),
    location: str | None = typer.Option(None, "--location", rich_help_panel="Sampling",
                                        help="[cogvideox-3dtrajmaster] Scene location for the prompt (e.g. desert)."),
    dtype: str | None = typer.Option(None, "--dtype", help="auto, bf16, fp16 or fp32.", rich_help_panel="Memory"),
    device: str | None = typer.Option(None, "--device", help="auto, cuda, cuda:1, cpu …", rich_help_panel="Memory"),
    offload: str | None = typer.Option(None, "--offload", rich_help_panel="Memory",
                                       help="none, model, group or sequential CPU offloading."),
    vae_tiling: bool = typer.Option(False, "--vae-tiling", help="Tiled VAE encode/decode.",
                                    rich_help_panel="Memory"),
    set_options: list[str] = typer.Option([], "--set", help="Any backend option as KEY=VALUE (repeatable)."),
    dataset: Path | None = typer.Option(None, "--dataset", rich_help_panel="3DTrajMaster test sets",
                                        help="360°-Motion folder holding the videos a test_sets.json names."),
    ids: str | None = typer.Option(None, "--ids", rich_help_panel="3DTrajMaster test sets",
                                   help="Comma-separated test_sets.json case keys to run (default all)."),
    evaluate: bool = typer.Option(False, "--evaluate", help="Measure each finished video against its controls "
                                  "(as `trajkit evaluate`): metrics.json and a section in report.html."),
    tracker: str = typer.Option("lk", "--tracker", help="Point tracker for --evaluate: lk, cotracker3, "
                                "cotracker3-online."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or messages."),
) -> None:
    """Render every job of a job file: one folder per job with video, overlay, plots, controls and report.

    Finished jobs are skipped (delete a folder to render it again); a failing job is recorded in
    OUT/NAME.failed.json and the others continue. Inputs are checked before any rendering starts.
    Flags override every job's own values.

    Backends: preview (CPU animatic, default), wan-ati (Wan2.1-I2V-14B + ATI's motion patch) and
    cogvideox-3dtrajmaster (CogVideoX-5B + 3DTrajMaster's injector and LoRA; 1–3 entities with prompts). The
    model backends need the weights on disk: the README's "Wan2.1 + ATI" and "CogVideoX + 3DTrajMaster"
    sections give the download commands. Nothing is downloaded unless you pass --download.
    3DTrajMaster's test_sets.json runs as a job file with --dataset (the 360°-Motion folder).

    Examples:

        trajkit generate ../shared/data/ati/test.yaml --backend preview

        trajkit generate ../shared/data/ati/test.yaml --backend wan-ati --base models/wan21-i2v-480p
        --transformer models/ati --offload model

        trajkit generate my_job.yaml -o renders --backend wan-ati --window 0,0.6 --set topk=3

        trajkit generate test_sets.json --dataset 360Motion-Dataset/480_720 --ids 0,10,20
        --base models/cogvideox-5b --injector models/3dtrajmaster/injector --lora models/3dtrajmaster/lora
    """
    overrides: dict[str, Any] = {}
    if frames is not None:
        overrides["frames"] = frames
    if fps is not None:
        overrides["fps"] = fps
    if size is not None:
        overrides["size"] = "auto" if size == "auto" else parse_size(size, "--size")
    if seed is not None:
        overrides["seed"] = seed
    options = _parse_set(set_options)
    if window is not None:
        try:
            options["window"] = [float(v) for v in window.split(",")]
        except ValueError:
            _fail(f"--window expects START,END fractions, e.g. 0,0.5; got {window!r}")
    for key, value in (("base", base), ("transformer", transformer), ("injector", injector), ("lora", lora),
                       ("steps", steps), ("guidance", guidance), ("injector_steps", injector_steps),
                       ("lora_scale", lora_scale), ("location", location), ("dtype", dtype), ("device", device),
                       ("offload", offload)):
        if value is not None:
            options[key] = value
    if download:
        options["download"] = True
    if vae_tiling:
        options["vae_tiling"] = True
    id_list = [i.strip() for i in ids.split(",") if i.strip()] if ids is not None else None
    if evaluate:
        from ..measure.trackers import TRACKERS

        if tracker not in TRACKERS:
            _fail(f"--tracker: unknown tracker {tracker!r}; choose one of {', '.join(TRACKERS)}")
    _run_job_file(job_file, output, backend, as_json, quiet, overrides, options, dataset, id_list,
                  evaluate_with=tracker if evaluate else None)


@app.command()
def demo(
    output: Path = typer.Option(Path("outputs/demo"), "--output", "-o", help="Where to write the demo."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Make a scene from code, author a camera move and an object track, render a preview and a report;
    then let the embedded director write a camera move from a sentence for the same scene.

    Needs nothing downloaded. Writes OUT/inputs (scene, depth, tracks, job file), OUT/demo and
    OUT/demo-director (job folders); open OUT/demo/report.html in a browser. The director step needs
    `pip install 'trajkit[director]'` and is left out (with a note) without it.
    """
    from ..jobs.demo import director_available, write_demo_inputs

    job_file = write_demo_inputs(output / "inputs")
    if not director_available():
        err.print("note: the text-to-camera step is left out; pip install 'trajkit[director]' to add it", markup=False)
    _run_job_file(job_file, output, None, as_json, False)
    if not as_json:
        out.print(f"measure the motion in them: trajkit evaluate {output}/*")


# ---------------------------------------------------------------------------- formats
@app.command("formats")
def list_formats(as_json: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
    """List every file format trajkit reads or writes, with the hints each one needs."""
    rows = [{"name": f.name, "title": f.title, "kind": f.kind, "extensions": list(f.extensions),
             "read": f.read is not None, "write": f.write is not None, "hints": list(f.hints),
             "timeline": None if f.frames is None else f"{f.frames} frames @ {f.fps:g} fps", "notes": f.notes}
            for f in formats()]
    if as_json:
        _print_json(rows)
        return
    table = Table(title="trajkit formats (detection order)", title_justify="left")
    for col in ("name", "kind", "r/w", "extensions"):
        table.add_column(col, no_wrap=True)
    table.add_column("hints", overflow="fold", max_width=24)
    table.add_column("notes", overflow="fold", ratio=1)
    for r in rows:
        rw = ("r" if r["read"] else "-") + ("w" if r["write"] else "-")
        table.add_row(r["name"], r["kind"], rw, " ".join(r["extensions"]), " ".join(r["hints"]), r["notes"])
    out.print(table)


from . import camera as _camera  # noqa: E402,F401  (registers `camera moves`)
from . import director as _director  # noqa: E402,F401  (registers `direct` and `train director`)
from . import evaluate as _evaluate  # noqa: E402,F401  (registers `evaluate`)
from . import measure as _measure  # noqa: E402,F401  (registers `tracks from-video`, `camera from-video`)
from . import studio as _studio  # noqa: E402,F401  (registers `studio`)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
