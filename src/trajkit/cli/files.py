"""``trajkit info``, ``trajkit convert`` and ``trajkit formats``: what a file holds, moving it between formats."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError
from ..core.retime import fit_timeline
from ..core.tracks import Tracks
from ..formats import documents as docs
from ..formats.registry import Format, detect, format_for_save, formats, get_format, load, save
from ._common import camera_hint, fail, out, parse_size, print_json, print_summary, resolve_input
from .summary import summarise


def _load(path: Path, fmt: str | None, hints: dict[str, Any]) -> tuple[Any, Format]:
    f = get_format(fmt) if fmt else detect(path)
    return load(path, format=f.name, **hints), f


def info(
    file: str = typer.Argument(..., help="A control file, or `example:NAME` for a bundled example."),
    fmt: str | None = typer.Option(None, "--from", help="Format name; skips detection (see `trajkit formats`)."),
    size: str | None = typer.Option(
        None, "--size", "--canvas", help="Canvas WxH for formats that do not store it (ATI .pth, ComfyUI JSON)."
    ),
    image: Path | None = typer.Option(None, "--image", help="The image the tracks belong to (sets the canvas)."),
    fps: float | None = typer.Option(None, "--fps", min=1e-3, help="Frame rate for formats that do not store it."),
    camera: str | None = typer.Option(None, "--camera", help="Camera name or 1-based number in multi-camera files."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Show what a file holds: type, frames, fps, canvas, tracks / camera extent / entities, format detected.

    Examples:

        trajkit info tracks/bear.pth --image images/bear.jpg

        trajkit info case1_transforms_cleaning.json --json
    """
    path = resolve_input(file)
    hints = {"size": parse_size(size, "--size"), "image": image, "fps": fps, "camera": camera_hint(camera)}
    try:
        obj, f = _load(path, fmt, hints)
    except TrajkitError as exc:
        fail(str(exc))
    summary = {"file": str(path), "format": f.name, **summarise(obj)}
    if as_json:
        print_json(summary)
    else:
        print_summary(f"{path.name} — {f.title}", summary)


def _select_camera(obj: Any, camera: str | None, target: Format) -> Any:
    if isinstance(obj, docs.CameraSet) and not isinstance(obj, target.writes):
        if camera is None:
            fail(f"the input holds {len(obj.cameras)} cameras ({', '.join(obj.names[:4])}, ...) and "
                  f"{target.name} holds one; choose with --camera NAME|NUMBER")
        return obj.get(camera_hint(camera))  # type: ignore[arg-type]
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
    fail(f"a {type(obj).__name__} cannot be resampled")
    return obj


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
    fail(f"--size does not apply to a {type(obj).__name__}")
    return obj


def convert(
    src: str = typer.Argument(..., help="Input file (any readable format, or `example:NAME`)."),
    dst: Path = typer.Argument(..., help="Output file; its extension picks the format unless --to is given."),
    to: str | None = typer.Option(None, "--to", help="Output format name (see `trajkit formats`)."),
    fmt: str | None = typer.Option(None, "--from", help="Input format name; skips detection."),
    size: str | None = typer.Option(None, "--size", help="Rescale to this output canvas WxH."),
    resize_mode: str = typer.Option("resize", "--resize-mode", help="Tracks: `resize` (stretch) or `crop` "
                                    "(scale to cover, centre-crop, as ComfyUI does)."),
    fps: float | None = typer.Option(None, "--fps", min=1e-3, help="Resample to this frame rate (by time)."),
    frames: int | None = typer.Option(None, "--frames", min=1, help="Resample to this many frames."),
    method: str = typer.Option("linear", "--method", help="Tracks resampling: `linear`, `nearest` or `ati` "
                               "(ATI / WanTrackToVideo index rule)."),
    canvas: str | None = typer.Option(None, "--canvas", help="Input canvas WxH for formats that do not store it."),
    image: Path | None = typer.Option(None, "--image", help="Input image the tracks belong to (sets the canvas)."),
    in_fps: float | None = typer.Option(None, "--in-fps", min=1e-3,
                                        help="Input frame rate for formats that do not store it."),
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
    hints = {"size": parse_size(canvas, "--canvas"), "image": image, "fps": in_fps, "camera": camera_hint(camera)}
    out_size = parse_size(size, "--size")
    if method not in ("linear", "nearest", "ati"):
        fail(f"--method must be linear, nearest or ati; got {method!r}")
    if resize_mode not in ("resize", "crop"):
        fail(f"--resize-mode must be resize or crop; got {resize_mode!r}")
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
        fail(str(exc))
    result = {"input": str(path), "input_format": source_fmt.name, "output": str(dst), "output_format": target.name,
              "notes": notes, "summary": summarise(obj)}
    if as_json:
        print_json(result)
    elif not quiet:
        out.print(f"[green]wrote[/] {dst} ([bold]{target.name}[/]) from {path.name} ({source_fmt.name})")
        for note in notes:
            out.print(f"  [yellow]note:[/] {note}")


def list_formats(as_json: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
    """List every file format trajkit reads or writes, with the hints each one needs."""
    rows = [{"name": f.name, "title": f.title, "kind": f.kind, "extensions": list(f.extensions),
             "read": f.read is not None, "write": f.write is not None, "hints": list(f.hints),
             "timeline": None if f.frames is None else f"{f.frames} frames @ {f.fps:g} fps", "notes": f.notes}
            for f in formats()]
    if as_json:
        print_json(rows)
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
