"""`trajkit generate`: ATI's examples end to end, resume, early validation, interruption safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import trajkit
from trajkit.cli.main import app
from trajkit.core import ati_video_size
from trajkit.viz.video import read_mp4

runner = CliRunner()
NAMES = ["fish", "human", "sea", "deco", "giraffe", "bear"]


def generate(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["generate", *args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def test_ati_examples_render_skip_and_resume(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, report = generate(str(data_dir / "ati" / "test.yaml"), "--backend", "preview", "-o", str(out))
    assert code == 0 and report["done"] == 6
    for k, name in enumerate(NAMES):
        folder = out / f"{k:03d}_{name}"
        for f in ("video.mp4", "overlay.mp4", "input.jpg", "job.json", "report.html", "controls/tracks.json"):
            assert (folder / f).is_file(), f
        record = json.loads((folder / "job.json").read_text())
        ref = np.load(data_dir / "ati" / "reference" / f"{name}_reference.npz")
        w, h = ati_video_size(tuple(int(v) for v in ref["image_wh"]))
        assert record["resolved"]["size"] == [w, h]
        video, fps = read_mp4(folder / "video.mp4")
        assert video.shape[:3] == (81, h, w) and fps == pytest.approx(16)
        tracks = trajkit.load(folder / "controls" / "tracks.json")
        assert tracks.num_frames == 81 and tracks.size == (w, h)
    assert not (out / ".trajkit-tmp").exists()
    code, report = generate(str(data_dir / "ati" / "test.yaml"), "--backend", "preview", "-o", str(out))
    assert code == 0 and report["skipped"] == 6 and report["done"] == 0
    shutil.rmtree(out / "002_sea")
    code, report = generate(str(data_dir / "ati" / "test.yaml"), "--backend", "preview", "-o", str(out))
    assert report["done"] == 1 and report["skipped"] == 5
    assert [j["name"] for j in report["jobs"] if j["status"] == "done"] == ["002_sea"]


def _job(tmp_path: Path, data_dir: Path, **fields) -> Path:
    job = {"image": str(data_dir / "ati" / "images" / "fish.jpg"), "tracks": str(data_dir / "ati" / "tracks" /
                                                                              "fish.pth"), "frames": 9}
    job.update(fields)
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    return path


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"image": "missing.jpg"}, "field 'image'"),
        ({"backend": "sora"}, "field 'backend'"),
        ({"frames": 0}, "field 'frames'"),
        ({"options": {"blur": 1}}, "field 'options'"),
        ({"tracks": "wrong_canvas.json"}, "field 'tracks'"),
        ({"camera": {"moves": "spin around"}}, "valid verbs"),
        ({"camera": {"moves": "pan left 10deg", "text": "pan left"}}, "exactly one of"),
        ({"camera": {"text": "pan left", "director": "nowhere"}}, "field 'camera.director'"),
        ({"camera": {"text": "pan left " * 30}}, "word pieces long"),
        ({"colour": "red"}, "field 'colour'"),
    ],
)
def test_bad_jobs_fail_before_any_work(data_dir: Path, tmp_path: Path, fields: dict, message: str) -> None:
    wrong = trajkit.Tracks(xy=np.zeros((9, 1, 2)), visible=np.ones((9, 1), bool), size=(832, 480), fps=16)
    trajkit.save(wrong, tmp_path / "wrong_canvas.json")
    job = _job(tmp_path, data_dir, **fields)
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", str(job), "-o", str(out)])
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_interrupted_run_leaves_no_partial_folder(data_dir: Path, tmp_path: Path) -> None:
    job = _job(tmp_path, data_dir, frames=121, name="slow", options={"cell": 2})
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "trajkit", "generate", str(job), "-o", str(out), "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(trajkit.__file__).parents[1])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not any((out / ".trajkit-tmp").glob("slow-*")):
        time.sleep(0.05)
    assert any((out / ".trajkit-tmp").glob("slow-*")), "the job never started"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (out / "slow").exists()
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=300)
    assert done.returncode == 0
    assert (out / "slow" / "job.json").is_file() and not (out / ".trajkit-tmp").exists()


def test_failing_job_is_recorded_and_others_continue(data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from trajkit.backends import preview

    calls = {"n": 0}
    original = preview.render_preview

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("GPU on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(preview, "render_preview", flaky)
    jobs = [{"name": n, "image": str(data_dir / "ati" / "images" / "human.jpg"),
             "tracks": str(data_dir / "ati" / "tracks" / "human.pth"), "frames": 5} for n in ("a", "b")]
    (tmp_path / "jobs.yaml").write_text(yaml.safe_dump(jobs))
    code, report = generate(str(tmp_path / "jobs.yaml"), "-o", str(tmp_path / "out"))
    assert code == 1 and report["failed"] == 1 and report["done"] == 1
    failed = json.loads((tmp_path / "out" / "a.failed.json").read_text())
    assert "GPU on fire" in failed["error"] and not (tmp_path / "out" / "a").exists()
    code, report = generate(str(tmp_path / "jobs.yaml"), "-o", str(tmp_path / "out"))
    assert code == 0 and report["done"] == 1 and report["skipped"] == 1
    assert not (tmp_path / "out" / "a.failed.json").exists()


def test_inline_controls(data_dir: Path, tmp_path: Path) -> None:
    from trajkit.author import camera as mv
    from trajkit.formats.native import to_json_document

    cam = mv.pan(10).path(fps=16, size=(320, 240))
    job = {"name": "inline", "image": str(data_dir / "ati" / "images" / "human.jpg"), "size": [320, 240],
           "frames": 9, "tracks": {"inline": [[[100, 100], [120, 110], [140, 120]], [{"x": 10, "y": 20}]],
                                   "canvas": [320, 240], "rescale": True},
           "camera": {"inline": to_json_document(cam), "grid": 2}}
    (tmp_path / "job.json").write_text(json.dumps(job))
    code, report = generate(str(tmp_path / "job.json"), "-o", str(tmp_path / "out"))
    assert code == 0 and report["done"] == 1
    tracks = trajkit.load(tmp_path / "out" / "inline" / "controls" / "tracks.json")
    assert tracks.num_tracks == 2 + 4 and tracks.num_frames == 9
    camera = trajkit.load(tmp_path / "out" / "inline" / "controls" / "camera.json")
    assert camera.num_frames == 9
    bad = dict(job, tracks={"inline": [[["a", 1]]]})
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = runner.invoke(app, ["generate", str(tmp_path / "bad.json"), "-o", str(tmp_path / "out2")])
    assert result.exit_code == 1 and "tracks.inline" in result.stderr


def test_reference_video_is_compared_and_a_mismatched_one_named(tmp_path: Path) -> None:
    """A job's true video: a matching one gives PSNR/SSIM in job.json and the report; one with more frames is
    refused by name (decoding stops after one frame too many), and the job still finishes."""
    from PIL import Image

    from trajkit.evaluate.scenes import sprite_scene
    from trajkit.viz.video import write_mp4

    truth, tracks, _ = sprite_scene(frames=9)
    Image.fromarray(truth[0]).save(tmp_path / "sprite.png")
    trajkit.save(tracks, tmp_path / "tracks.json")
    write_mp4(tmp_path / "truth.mp4", truth, 16)
    write_mp4(tmp_path / "long.mp4", np.concatenate([truth, truth]), 16)
    jobs = [{"name": n, "image": "sprite.png", "tracks": "tracks.json", "frames": 9, "fps": 16, "size": [320, 240],
             "reference": ref} for n, ref in (("good", "truth.mp4"), ("long", "long.mp4"))]
    (tmp_path / "jobs.yaml").write_text(yaml.safe_dump(jobs))
    code, report = generate(str(tmp_path / "jobs.yaml"), "-o", str(tmp_path / "out"))
    assert code == 0 and report["done"] == 2
    good = json.loads((tmp_path / "out" / "good" / "job.json").read_text())["reference"]
    assert good["psnr_mean"] > 30 and len(good["psnr"]) == 9  # H.264 of the truth vs the preview of it
    assert "against the truth" in (tmp_path / "out" / "good" / "report.html").read_text()
    long = json.loads((tmp_path / "out" / "long" / "job.json").read_text())["reference"]
    assert "more than 9 frames" in long["error"]
    for bad, message in (("scene:nope", "unknown scene 'nope'"), ("missing.mkv", "file not found")):
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump({**jobs[0], "name": "bad", "reference": bad}))
        result = runner.invoke(app, ["generate", str(tmp_path / "bad.yaml"), "-o", str(tmp_path / "out2")])
        assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output
