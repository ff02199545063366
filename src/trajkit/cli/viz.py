"""``trajkit viz``: draw controls (tracks on images and videos, camera three-views, entity plots)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import typer

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError
from ..core.tracks import Tracks
from ..formats.registry import detect, get_format
from ._common import camera_hint, err, fail, load_typed, out, parse_size, resolve_input

viz_app = typer.Typer(help="Draw controls: tracks on images and videos, camera three-views, entity plots.",
                      no_args_is_help=True)


def _tracks_for(tracks_file: str, size: tuple[int, int], fmt: str | None = None,
                canvas: tuple[int, int] | None = None) -> tuple[Tracks, str | None]:
    """Tracks mapped onto a ``size`` (W, H) picture, and a note when their canvas had to be assumed.

    ``canvas`` is the picture the tracks were drawn on, for formats that do not store it (ATI .pth, Wan-Move
    .npy, ComfyUI JSON): they are rescaled from it, as ``generate`` rescales them from the job's image. Without
    it such tracks are taken to be drawn on ``size`` itself; when most of their points then fall outside the
    picture that assumption is wrong and the command refuses instead of drawing them misplaced.
    """
    path = resolve_input(tracks_file)
    try:
        f = get_format(fmt) if fmt else detect(path)
    except TrajkitError as exc:
        fail(str(exc))
    assumed = canvas is None and "size" in f.hints
    tracks = load_typed(tracks_file, Tracks, "tracks", format=f.name, size=canvas or size)
    note = None
    if assumed:
        xy = tracks.xy[tracks.visible]
        inside = ((xy >= 0) & (xy <= np.asarray(size))).all(axis=1).mean() if len(xy) else 1.0
        if inside < 0.5:
            fail(f"{tracks_file}: {f.name} files do not store the canvas their tracks were drawn on, and "
                 f"{100 * (1 - inside):.0f}% of the points lie outside the {size[0]}×{size[1]} picture (they "
                 f"reach x = {xy[:, 0].max():.0f}, y = {xy[:, 1].max():.0f}); pass --image with the image the "
                 "tracks were drawn on, or --canvas WxH, to rescale them")
        note = (f"{f.name} does not store a canvas: the tracks are taken as drawn on the {size[0]}×{size[1]} "
                "picture (pass --image or --canvas if they were drawn on another size)")
    return (tracks if tracks.size == size else tracks.rescale(size)), note


_FROM = typer.Option(None, "--from", help="Tracks format name; skips detection (see `trajkit formats`).")


def _plot(draw: Callable[[], object], output: Path) -> None:
    """Run ``draw`` (which loads a control and draws it into ``output``), failing with one line on bad input."""
    try:
        draw()
    except TrajkitError as exc:
        fail(str(exc))
    out.print(f"[green]wrote[/] {output}")


@viz_app.command("tracks")
def viz_tracks(
    image: Path = typer.Argument(..., help="The image the tracks belong to."),
    tracks_file: str = typer.Argument(..., help="Tracks file (canvas = the image unless the file says otherwise)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output image (.png / .jpg)."),
    fmt: str | None = _FROM,
) -> None:
    """Draw tracks on an image, ATI style (green → red, start dot, arrowhead).

    Example: trajkit viz tracks bear.jpg bear.pth -o bear_tracks.png
    """
    import cv2

    from ..formats._io import atomic_write_bytes
    from ..formats.images import load_image
    from ..viz.tracks import draw_tracks

    def draw() -> None:
        img = load_image(image)
        size = (img.shape[1], img.shape[0])
        tracks, _ = _tracks_for(tracks_file, size, fmt, canvas=size)
        ok, data = cv2.imencode(output.suffix or ".png", np.ascontiguousarray(draw_tracks(img, tracks)[..., ::-1]))
        if not ok:
            fail(f"{output}: unsupported image extension (use .png or .jpg)")
        atomic_write_bytes(output, data.tobytes())

    _plot(draw, output)


@viz_app.command("overlay")
def viz_overlay(
    video: Path = typer.Argument(..., help="A video (mp4) to draw on."),
    tracks_file: str = typer.Argument(..., help="Tracks file; resampled onto the video's frames."),
    output: Path = typer.Option(..., "--output", "-o", help="Output video (.mp4)."),
    retain: int = typer.Option(12, "--retain", min=1, help="Trail length in frames."),
    image: Path | None = typer.Option(None, "--image", help="The image the tracks were drawn on (its size is "
                                      "their canvas; they are rescaled onto the video)."),
    canvas: str | None = typer.Option(None, "--canvas", help="The tracks' canvas WxH, for formats that do not "
                                      "store it (ATI .pth, Wan-Move .npy, ComfyUI JSON)."),
    fmt: str | None = _FROM,
) -> None:
    """Draw fading track trails on a video (ATI's overlay, vectorised).

    Tracks are rescaled from their canvas onto the video's size, as `trajkit generate` does; for formats that
    do not store a canvas, name it with --image or --canvas.

    Example: trajkit viz overlay outputs/000_fish/video.mp4 fish.pth --image fish.jpg -o fish_overlay.mp4
    """
    from ..formats.images import image_size
    from ..viz.tracks import overlay_tracks
    from ..viz.video import read_mp4, write_mp4

    try:
        frames, fps = read_mp4(video)
        drawn_on = parse_size(canvas, "--canvas") or (image_size(image) if image is not None else None)
        tracks, note = _tracks_for(tracks_file, (frames.shape[2], frames.shape[1]), fmt, canvas=drawn_on)
        if tracks.num_frames != len(frames):
            tracks = tracks.resample(len(frames))
        write_mp4(output, overlay_tracks(frames, tracks, retain=retain), fps or tracks.fps)
    except TrajkitError as exc:
        fail(str(exc))
    if note:
        err.print(f"note: {note}", markup=False, highlight=False)
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

    _plot(lambda: camera_three_view(load_typed(camera_file, CameraPath, "one camera path",
                                               camera=camera_hint(camera)), output), output)


@viz_app.command("entities")
def viz_entities(
    entities_file: str = typer.Argument(..., help="Entity paths file (360°-Motion JSON or native)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output PNG."),
) -> None:
    """Entity paths from above with the viewing camera.

    Example: trajkit viz entities D_loc1_61_t3n13_003d_Hemi12_1.json -o entities.png
    """
    from ..viz.plots import entities_top_view

    _plot(lambda: entities_top_view(load_typed(entities_file, EntityPaths, "entity paths"), output), output)
