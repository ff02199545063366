"""What every verb module of the CLI shares: the consoles, one-line failures, argument parsers, loading and saving.

Imports no verb module (``main`` imports the verbs and assembles the app), so any verb can use it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from ..core.errors import TrajkitError
from ..core.retime import fit_timeline
from ..formats import documents as docs
from ..formats.images import EXAMPLE_PREFIX, bundled_example
from ..formats.registry import Format, format_for_save, get_format, load, save

out = Console()
err = Console(stderr=True)

TRACKER_HELP = "Point tracker: lk (OpenCV, CPU, default), cotracker3, cotracker3-online (torch + weights)."


def fail(message: str) -> NoReturn:
    """Print ``error: message`` (taken literally: ``[director]`` is not Rich markup) and exit 1."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def resolve_input(path: str) -> Path:
    """A file path, or ``example:NAME`` for a file bundled with trajkit (``example:tracks``, ``example:camera``)."""
    if path.startswith(EXAMPLE_PREFIX):
        try:
            return bundled_example(path[len(EXAMPLE_PREFIX):])
        except TrajkitError as exc:
            fail(str(exc))
    return Path(path)


def parse_size(text: str | None, option: str) -> tuple[int, int] | None:
    """``"832x480"`` → ``(832, 480)``; ``None`` stays ``None``."""
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
        if w <= 0 or h <= 0:
            raise ValueError
    except ValueError:
        fail(f"{option} expects WIDTHxHEIGHT in pixels, e.g. 832x480; got {text!r}")
    return w, h


def parse_points(text: str, option: str) -> list[tuple[float, float]]:
    """``"100,200 400,260"`` → ``[(100, 200), (400, 260)]``."""
    try:
        pts = [tuple(float(v) for v in pair.split(",")) for pair in text.replace(";", " ").split()]
        if not pts or any(len(p) != 2 for p in pts):
            raise ValueError
    except ValueError:
        fail(f"{option} expects 'x,y x,y ...' in pixels, e.g. \"100,200 400,260\"; got {text!r}")
    return pts  # type: ignore[return-value]


def check_frames(value: int | None, option: str = "--frames", minimum: int = 1) -> None:
    """Refuse a frame count below ``minimum`` naming the option (before any internal function sees it)."""
    if value is not None and value < minimum:
        fail(f"{option} must be at least {minimum}; got {value}")


def camera_hint(camera: str | None) -> str | int | None:
    """``--camera 3`` → 3 (1-based number), ``--camera Hemi12_1`` → the name."""
    if camera is None:
        return None
    return int(camera) if camera.isdigit() else camera


def print_json(data: Any) -> None:
    """Machine-readable output on stdout (``--json``)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_summary(title: str, summary: dict[str, Any]) -> None:
    """A two-column key/value table (long lists shortened)."""
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


def progress_bar(quiet: bool) -> Progress:
    """The progress bars every long command shows on stderr (hidden with ``quiet``)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=quiet)


def load_typed(file: str, kind: type, noun: str, **hints: Any) -> Any:
    """Load ``file`` (or ``example:NAME``) and insist on one type, failing with one line otherwise."""
    obj = load(resolve_input(file), **hints)
    if not isinstance(obj, kind):
        extra = " (choose one with --camera)" if isinstance(obj, docs.CameraSet) else ""
        fail(f"{file} holds a {type(obj).__name__}, not {noun}{extra}")
    return obj


def save_for_target(obj: Any, output: Path, to: str | None) -> tuple[Any, Format]:
    """Save ``obj`` in format ``to`` (or by extension), fitting fixed-timeline formats first."""
    target = get_format(to) if to else format_for_save(obj, output)
    if target.frames is not None and getattr(obj, "num_frames", target.frames) != target.frames:
        obj = fit_timeline(obj, target.frames, target.fps)  # type: ignore[arg-type]
    save(obj, output, format=target.name)
    return obj, target


def group_with_default(default: str, **options: Any) -> typer.Typer:
    """A command group whose ``default`` subcommand takes any arguments that do not name another subcommand
    (``trajkit camera "dolly in 1m"`` is ``camera moves …``; ``trajkit evaluate outputs/*`` is ``evaluate jobs …``)."""

    class _Group(TyperGroup):
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
                args = [default, *args]
            return super().parse_args(ctx, args)

    return typer.Typer(cls=_Group, no_args_is_help=True, **options)
