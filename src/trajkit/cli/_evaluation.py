"""Evaluating one job folder into a summary row, and the summary table: shared by ``evaluate`` and
``generate --evaluate``. Imports no verb module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table

from ..core.errors import TrajkitError
from ._common import out

Progress = Callable[[str, int, int], None]


def evaluate_row(folder: Path, progress: Progress | None = None, **options: Any) -> dict[str, Any]:
    """One job's summary row; a failure becomes ``status: error`` with its message (never raised), so one
    job's problem (or a trajkit bug) does not lose the other jobs' results. ``options`` go to ``evaluate_job``."""
    from ..jobs.evaluation import evaluate_job, summary_row

    try:
        return summary_row(folder, evaluate_job(folder, progress=progress, **options))
    except TrajkitError as exc:
        return {"job": folder.name, "status": "error", "error": str(exc)}
    except Exception as exc:
        return {"job": folder.name, "status": "error",
                "error": f"unexpected {type(exc).__name__}: {exc} (a trajkit bug; please report it)"}


def evaluate_one(folder: Path, tracker: str, progress: Progress | None = None) -> dict[str, Any]:
    """``generate --evaluate``: one finished job's row, its stages reported as ``NAME: evaluate STAGE``."""

    def stages(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(f"{folder.name}: evaluate {stage}", done, total)

    return evaluate_row(folder, stages, tracker=tracker)


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
