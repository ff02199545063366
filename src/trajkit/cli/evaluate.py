"""``trajkit evaluate``: measure finished job folders against their controls (tracks, camera, entities)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import typer

from ._common import TRACKER_HELP, err, fail, group_with_default, out, print_json, progress_bar
from ._evaluation import evaluate_row, print_table

COLUMNS = ("job", "status", "tracks", "epe_px", "epe_median_px", "delta_avg", "occlusion_accuracy",
           "average_jaccard", "rot_err_deg_per_frame", "trans_err", "cam_mc", "entity_path_error_px")


evaluate_app = group_with_default(
    "jobs", help="Measure what was made: finished job folders against their controls (`trajkit evaluate jobs "
                 "outputs/*`, or just `trajkit evaluate outputs/*`), or a director with GenDoP's metrics "
                 "(`trajkit evaluate director`).")


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


def run_evaluation(folders: list[Path], *, tracker: str, camera: bool, checkpoint: Path | None, download: bool,
                   device: str, quiet: bool) -> list[dict[str, Any]]:
    """Evaluate ``folders`` with progress bars; one summary row each (errors recorded, never raised)."""
    bar = progress_bar(quiet)
    rows = []
    with bar:
        for folder in folders:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int, name: str = folder.name, tasks: dict = tasks) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(f"{name}: {stage}", total=total)
                bar.update(tasks[stage], completed=done, total=total)

            rows.append(evaluate_row(folder, progress, tracker=tracker, camera=camera, checkpoint=checkpoint,
                                     download=download, device=device))
            for task in tasks.values():
                bar.remove_task(task)
    return rows


@evaluate_app.command("jobs")
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
        fail(f"--tracker: unknown tracker {tracker!r}; choose one of {', '.join(TRACKERS)}")
    found, skipped = job_folders(folders)
    for note in skipped:
        err.print(f"skipped {note}", markup=False, highlight=False)
    if not found:
        fail("no job folders to evaluate (a job folder holds job.json; run trajkit generate first)")
    rows = run_evaluation(found, tracker=tracker, camera=not no_camera, checkpoint=checkpoint, download=download,
                          device=device, quiet=quiet or as_json)
    if len(found) > 1 or summary is not None:
        from ..formats._io import atomic_write_text

        target = summary or Path(_common_parent(found)) / "evaluation.csv"
        atomic_write_text(target, _csv(rows))
        if not as_json:
            out.print(f"summary: {target}")
    if as_json:
        print_json(rows)
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
