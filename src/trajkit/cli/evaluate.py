"""``trajkit evaluate``: measure finished job folders against their controls (tracks, camera, entities)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core.errors import TrajkitError
from .main import _fail, _print_json, app, err, out

TRACKER_HELP = "Point tracker: lk (OpenCV, CPU, default), cotracker3, cotracker3-online (torch + weights)."
COLUMNS = ("job", "status", "tracks", "epe_px", "epe_median_px", "delta_avg", "occlusion_accuracy",
           "average_jaccard", "rot_err_deg_per_frame", "trans_err", "cam_mc", "entity_path_error_px")


def job_folders(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Job folders named by ``paths`` (a job folder, or a folder of job folders) and notes on what was skipped."""
    found: list[Path] = []
    skipped: list[str] = []
    for p in paths:
        if (p / "job.json").is_file():
            found.append(p)
        elif p.is_dir() and any((c / "job.json").is_file() for c in p.iterdir() if c.is_dir()):
            found.extend(sorted(c for c in p.iterdir() if (c / "job.json").is_file()))
        elif p.is_dir():
            skipped.append(f"{p}: not a job folder (no job.json)")
        elif not p.exists():
            skipped.append(f"{p}: no such folder")
    return found, skipped


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*COLUMNS, "error"], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in (*COLUMNS, "error")})
    return buf.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    """The summary table; columns nobody has a figure for (no camera, no entities) are left out."""
    columns = [("job", "job"), ("EPE px", "epe_px"), ("median", "epe_median_px"), ("δ-avg", "delta_avg"),
               ("OA", "occlusion_accuracy"), ("AJ", "average_jaccard"), ("Rot°/fr", "rot_err_deg_per_frame"),
               ("Trans", "trans_err"), ("CamMC", "cam_mc"), ("entity px", "entity_path_error_px")]
    ok = [r for r in rows if r["status"] == "ok"]
    columns = [c for c in columns if c[1] == "job" or any(r.get(c[1]) is not None for r in ok)]
    table = Table(title="trajkit evaluate", title_justify="left", padding=(0, 1), collapse_padding=True)
    for head, _ in columns:
        table.add_column(head, no_wrap=True, justify="left" if head == "job" else "right")
    for row in rows:
        if row["status"] != "ok":
            table.add_row(f"[red]{row['job']}[/]", *(["failed"] + ["—"] * (len(columns) - 2))[:len(columns) - 1])
            continue
        table.add_row(*(_cell(row.get(key)) for _, key in columns))
    out.print(table)
    for row in rows:
        if row["status"] != "ok":
            out.print(f"[red]error[/] {row['job']}: {row['error']}", highlight=False)
        elif row.get("camera_error"):
            out.print(f"[yellow]camera not estimated[/] {row['job']}: {row['camera_error']}", highlight=False)


def evaluate_one(folder: Path, tracker: str, progress: Any = None) -> dict[str, Any]:
    """One job's summary row (errors recorded, not raised), for ``trajkit generate --evaluate``."""
    from ..jobs.evaluation import evaluate_job, summary_row

    def stages(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(f"{folder.name}: evaluate {stage}", done, total)

    try:
        return summary_row(folder, evaluate_job(folder, tracker=tracker, progress=stages))
    except TrajkitError as exc:
        return {"job": folder.name, "status": "error", "error": str(exc)}
    except Exception as exc:  # one job's bug must not lose the others' results
        return {"job": folder.name, "status": "error",
                "error": f"unexpected {type(exc).__name__}: {exc} (a trajkit bug; please report it)"}


def run_evaluation(folders: list[Path], *, tracker: str, camera: bool, checkpoint: Path | None, download: bool,
                   device: str, quiet: bool) -> list[dict[str, Any]]:
    """Evaluate ``folders`` with progress bars; one summary row each (errors recorded, never raised)."""
    from ..jobs.evaluation import evaluate_job, summary_row

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, disable=quiet)
    rows = []
    with bar:
        for folder in folders:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int, name: str = folder.name, tasks: dict = tasks) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(f"{name}: {stage}", total=total)
                bar.update(tasks[stage], completed=done, total=total)

            try:
                metrics = evaluate_job(folder, tracker=tracker, camera=camera, checkpoint=checkpoint,
                                       download=download, device=device, progress=progress)
                rows.append(summary_row(folder, metrics))
            except TrajkitError as exc:
                rows.append({"job": folder.name, "status": "error", "error": str(exc)})
            except Exception as exc:
                rows.append({"job": folder.name, "status": "error",
                             "error": f"unexpected {type(exc).__name__}: {exc} (a trajkit bug; please report it)"})
            for task in tasks.values():
                bar.remove_task(task)
    return rows


@app.command("evaluate")
def evaluate(
    folders: list[Path] = typer.Argument(..., help="Job folders, or folders holding job folders."),
    tracker: str = typer.Option("lk", "--tracker", help=TRACKER_HELP),
    no_camera: bool = typer.Option(False, "--no-camera", help="Skip estimating the camera from the video."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="CoTracker3 checkpoint file (.pth)."),
    download: bool = typer.Option(False, "--download", help="Allow downloading CoTracker3's weights."),
    device: str = typer.Option("cpu", "--device", help="Device for CoTracker3 (cpu, cuda, …)."),
    summary: Path | None = typer.Option(None, "--summary", help="Where to write evaluation.csv (default: the "
                                        "common parent folder of the jobs)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary rows as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Measure the motion in finished jobs and compare it with what they were asked for.

    For each job folder: track the video from every requested track's first visible position and report
    end-point error (px, % of the diagonal), TAP-Vid's δ-accuracy (<1, 2, 4, 8, 16 px), occlusion accuracy
    and average Jaccard, per track group (the job's tracks, the camera's grid, each entity); estimate the
    camera from the video (pycolmap, OpenCV fallback) and report RotErr, TransErr and CamMC. Writes
    metrics.json, measured/, evaluation.mp4, epe.png and camera_eval.png into the folder and adds a
    "Measured motion" section to its report.html. Several jobs also get evaluation.csv.

    A job that cannot be evaluated is reported and the others go on (exit code 1 at the end).

    Examples:

        trajkit evaluate outputs/demo/*

        trajkit evaluate renders --tracker cotracker3 --device cuda --json
    """
    from ..measure.trackers import TRACKERS

    if tracker not in TRACKERS:
        _fail(f"--tracker: unknown tracker {tracker!r}; choose one of {', '.join(TRACKERS)}")
    found, skipped = job_folders(folders)
    for note in skipped:
        err.print(f"skipped {note}", markup=False, highlight=False)
    if not found:
        _fail("no job folders to evaluate (a job folder holds job.json; run trajkit generate first)")
    rows = run_evaluation(found, tracker=tracker, camera=not no_camera, checkpoint=checkpoint, download=download,
                          device=device, quiet=quiet or as_json)
    if len(found) > 1 or summary is not None:
        from ..formats._io import atomic_write_text

        target = summary or Path(_common_parent(found)) / "evaluation.csv"
        atomic_write_text(target, _csv(rows))
        if not as_json:
            out.print(f"summary: {target}")
    if as_json:
        _print_json(rows)
    else:
        print_table(rows)
        for folder, row in zip(found, rows, strict=True):
            if row["status"] == "ok":
                out.print(f"  report: {folder / 'report.html'}")
    if any(r["status"] != "ok" for r in rows):
        raise typer.Exit(1)


def _common_parent(folders: list[Path]) -> str:
    import os

    return os.path.commonpath([str(f.resolve().parent) for f in folders])
