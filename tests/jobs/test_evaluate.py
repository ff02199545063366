"""``trajkit evaluate`` and ``generate --evaluate``: the closed loop on a CPU.

Preview renders of known controls are measured and must score well; a video that answers another job's controls
must score badly (the metrics can fail); a folder with one broken job evaluates the others.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import trajkit
from trajkit.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sprite_jobs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two preview jobs on the sprite scene's first frame: the sprite pushed right, and pushed down-left."""
    from PIL import Image

    from trajkit.evaluate.scenes import sprite_scene

    root = tmp_path_factory.mktemp("sprites")
    jobs = []
    for name, shift in (("right", (90.0, 20.0)), ("left", (-70.0, 45.0))):
        video, tracks, _ = sprite_scene(frames=17, shift=shift)
        Image.fromarray(video[0]).save(root / f"{name}.png")
        trajkit.save(tracks, root / f"{name}.json")
        jobs.append({"name": name, "image": f"{name}.png", "tracks": f"{name}.json", "frames": 17, "fps": 16,
                     "size": [320, 240]})
    (root / "jobs.yaml").write_text(yaml.safe_dump(jobs))
    result = runner.invoke(app, ["generate", str(root / "jobs.yaml"), "-o", str(root / "out"), "--evaluate",
                                 "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [e["status"] for e in report["evaluation"]] == ["ok", "ok"]
    return root / "out"


def test_preview_follows_its_tracks(sprite_jobs: Path) -> None:
    for name in ("right", "left"):
        metrics = json.loads((sprite_jobs / name / "metrics.json").read_text())["tracks"]
        assert metrics["epe_median_px"] < 0.5 and metrics["delta_avg"] > 0.9, (name, metrics["epe_median_px"])
        assert metrics["occlusion_accuracy"] > 0.9
        for f in ("evaluation.mp4", "epe.png", "measured/tracks.json"):
            assert (sprite_jobs / name / f).is_file()
        page = (sprite_jobs / name / "report.html").read_text()
        assert "Measured motion" in page and "δ-accuracy" in page and "evaluation.mp4" in page


def test_a_video_of_other_controls_scores_badly(sprite_jobs: Path, tmp_path: Path) -> None:
    """The "left" job's folder given the "right" job's video: the sprite's five tracks land far off."""
    wrong = tmp_path / "wrong"
    shutil.copytree(sprite_jobs / "left", wrong)
    shutil.copy(sprite_jobs / "right" / "video.mp4", wrong / "video.mp4")
    result = runner.invoke(app, ["evaluate", str(wrong), "--json", "-q"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((wrong / "metrics.json").read_text())["tracks"]
    sprite = np.array(metrics["epe_per_track"][:5], dtype=float)
    anchors = np.array(metrics["epe_per_track"][5:], dtype=float)
    assert sprite.min() > 20 and np.median(anchors) < 1.0  # most static anchors still agree
    good = json.loads((sprite_jobs / "left" / "metrics.json").read_text())["tracks"]
    assert metrics["epe_px"] > 10 * good["epe_px"] and metrics["delta_avg"] < good["delta_avg"] - 0.2


def test_folder_with_a_broken_job_evaluates_the_rest(sprite_jobs: Path, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    shutil.copytree(sprite_jobs, root)
    (root / "right" / "video.mp4").write_bytes(b"\x00" * 2048)  # corrupted
    (root / "notes").mkdir()  # not a job
    result = runner.invoke(app, ["evaluate", str(root), str(root / "notes"), "-q"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "not a readable video" in said and "Traceback" not in said
    assert "not a job folder" in said
    rows = list(csv.DictReader((root / "evaluation.csv").open()))
    by_job = {r["job"]: r for r in rows}
    assert by_job["right"]["status"] == "error" and by_job["left"]["status"] == "ok"
    assert float(by_job["left"]["epe_median_px"]) < 0.5


def test_evaluate_refuses_what_is_not_a_job(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(tmp_path)])
    assert result.exit_code == 1 and "no job folders" in " ".join(result.output.split())
    result = runner.invoke(app, ["evaluate", str(tmp_path), "--tracker", "nope"])
    assert result.exit_code == 1 and "unknown tracker" in " ".join(result.output.split())
