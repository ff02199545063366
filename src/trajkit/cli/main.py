"""The ``trajkit`` command line (typer + rich): this module only assembles the verb modules into one app.

Every command turns bad input into one red line naming the problem (exit code 1) instead of a traceback;
``--json`` prints machine-readable results for scripts. Each verb group lives in its own module
(``files``, ``tracks``, ``camera``, ``bridge``, ``viz``, ``generate``, ``director``, ``measure``, ``evaluate``,
``evaluate_director``, ``studio``); what they share is in ``_common``.
"""

from __future__ import annotations

import typer

from .. import __version__
from . import bridge, camera, director, evaluate, evaluate_director, files, generate, measure, studio, tracks, viz
from ._common import out

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


def _version(value: bool) -> None:
    if value:
        out.print(f"trajkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """trajkit command line."""


app.command("info")(files.info)
app.command("convert")(files.convert)
tracks.tracks_app.command("from-video")(measure.tracks_from_video)
app.add_typer(tracks.tracks_app, name="tracks")
camera.camera_app.command("from-video")(measure.camera_from_video)
app.add_typer(camera.camera_app, name="camera")
app.add_typer(bridge.bridge_app, name="bridge")
app.add_typer(viz.viz_app, name="viz")
app.command("tag")(director.tag_camera)
app.command("generate")(generate.generate)
app.command("demo")(generate.demo)
evaluate.evaluate_app.command("director")(evaluate_director.evaluate_director)
app.add_typer(evaluate.evaluate_app, name="evaluate")
app.command("direct")(director.direct)
app.add_typer(director.train_app, name="train")
app.command("studio")(studio.studio)
app.command("formats")(files.list_formats)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
