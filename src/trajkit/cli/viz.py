"""``trajkit viz``: draw controls (tracks on images and videos, camera three-views, entity plots)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError
from ..core.tracks import Tracks
from ._common import camera_hint, fail, load_typed, out

viz_app = typer.Typer(help="Draw controls: tracks on images and videos, camera three-views, entity plots.",
                      no_args_is_help=True)


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
            fail(f"{output}: unsupported image extension (use .png or .jpg)")
        atomic_write_bytes(output, data.tobytes())
    except TrajkitError as exc:
        fail(str(exc))
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
        fail(str(exc))
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
        camera_three_view(load_typed(camera_file, CameraPath, "one camera path", camera=camera_hint(camera)), output)
    except TrajkitError as exc:
        fail(str(exc))
    out.print(f"[green]wrote[/] {output}")


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
        fail(str(exc))
    out.print(f"[green]wrote[/] {output}")
