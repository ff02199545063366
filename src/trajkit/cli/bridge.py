"""``trajkit bridge``: turn one control into another (camera path → tracks, entity paths → tracks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError
from ..formats.images import load_depth
from ..formats.registry import detect, load
from ._common import camera_hint, fail, load_typed, out, print_json, resolve_input, save_for_target
from .summary import summarise

bridge_app = typer.Typer(help="Turn one control into another (camera path → tracks, ...).", no_args_is_help=True)


def _load_depth(path: Path) -> Any:
    try:
        return load_depth(path)
    except TrajkitError as exc:
        fail(str(exc))


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
        cam = load_typed(camera_file, CameraPath, "a camera path", camera=camera_hint(camera))
        if image is not None:
            cam = cam.rescale(image_size(image))
        tracks = camera_to_tracks(cam, depth=None if depth is None else _load_depth(depth), grid=grid,
                                  fallback=fallback, distance=distance, height=height)  # type: ignore[arg-type]
        tracks, target = save_for_target(tracks, output, to)
    except TrajkitError as exc:
        fail(str(exc))
    summary = summarise(tracks)
    if as_json:
        print_json({"output": str(output), "output_format": target.name, "summary": summary})
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
        ents = load(path, format=fmt.name, camera=camera_hint(camera))
        if not isinstance(ents, EntityPaths):
            fail(f"{path} holds a {type(ents).__name__}, not entity paths")
        if ground is None and fmt.name == "trajmaster-json":
            from ..formats.trajmaster import GROUND

            ground = GROUND
            notes.append("360°-Motion pivots float 1.47 m above the target plane; tracks follow their ground "
                         f"contact (--ground {GROUND:g})")
        tracks = entities_to_tracks(ents, footprint=footprint, radius=radius, ground=ground)
        tracks, target = save_for_target(tracks, output, to)
    except TrajkitError as exc:
        fail(str(exc))
    if as_json:
        print_json({"output": str(output), "output_format": target.name, "notes": notes,
                     "summary": summarise(tracks)})
    else:
        out.print(f"[green]wrote[/] {output} ([bold]{target.name}[/]): {tracks.num_tracks} tracks × "
                  f"{tracks.num_frames} frames")
        for note in notes:
            out.print(f"  [yellow]note:[/] {note}")
