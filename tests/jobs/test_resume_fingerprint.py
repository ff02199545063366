"""Resuming a job list is exact: a finished job is skipped only when nothing that decides its video changed.

Issue 16 item 13: rerunning `trajkit generate` with `--frames 41 --seed 7` into a folder of finished jobs
skipped them all silently. Now each job.json holds a fingerprint of the job's spec and resolved inputs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from PIL import Image
from typer.testing import CliRunner

from trajkit.cli.main import app
from trajkit.viz.video import read_mp4

runner = CliRunner()


def generate(*args: object) -> dict:
    result = runner.invoke(app, ["generate", *(str(a) for a in args), "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _jobs(tmp_path: Path, data_dir: Path) -> Path:
    shutil.copy(data_dir / "ati" / "images" / "human.jpg", tmp_path / "human.jpg")
    jobs = [{"name": n, "image": "human.jpg", "tracks": str(data_dir / "ati" / "tracks" / "human.pth"),
             "frames": 5, "size": [160, 224]} for n in ("a", "b")]
    path = tmp_path / "jobs.yaml"
    path.write_text(yaml.safe_dump(jobs))
    return path


def test_changed_options_render_again_and_unchanged_jobs_are_skipped(data_dir: Path, tmp_path: Path) -> None:
    jobs, out = _jobs(tmp_path, data_dir), tmp_path / "out"
    assert generate(jobs, "-o", out)["done"] == 2
    first = json.loads((out / "a" / "job.json").read_text())["fingerprint"]
    again = generate(jobs, "-o", out)
    assert again["skipped"] == 2 and again["done"] == 0

    changed = generate(jobs, "-o", out, "--frames", "9", "--seed", "7")
    assert changed["done"] == 2 and changed["skipped"] == 0
    note = changed["jobs"][0]["note"]
    assert "frames 5 → 9" in note and "seed" in note and "7" in note
    assert read_mp4(out / "a" / "video.mp4")[0].shape[0] == 9
    assert json.loads((out / "a" / "job.json").read_text())["fingerprint"] != first
    assert generate(jobs, "-o", out, "--frames", "9", "--seed", "7")["skipped"] == 2


def test_an_edited_input_file_renders_again(data_dir: Path, tmp_path: Path) -> None:
    jobs, out = _jobs(tmp_path, data_dir), tmp_path / "out"
    generate(jobs, "-o", out)
    Image.open(tmp_path / "human.jpg").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "human.jpg")
    report = generate(jobs, "-o", out)
    assert report["done"] == 2 and "inputs changed" in report["jobs"][0]["note"]


def test_a_folder_without_fingerprint_is_rendered_again(data_dir: Path, tmp_path: Path) -> None:
    jobs, out = _jobs(tmp_path, data_dir), tmp_path / "out"
    generate(jobs, "-o", out)
    record = json.loads((out / "b" / "job.json").read_text())
    del record["fingerprint"]
    (out / "b" / "job.json").write_text(json.dumps(record))
    report = generate(jobs, "-o", out)
    assert [j["status"] for j in report["jobs"]] == ["skipped", "done"]
    assert "without a fingerprint" in report["jobs"][1]["note"]
