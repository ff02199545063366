"""`trajkit demo` end to end, and its report checked in headless Chromium (the video really plays)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from trajkit.cli.main import app

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    from trajkit.jobs.demo import director_available

    assert report["done"] == (2 if director_available() else 1)  # the authored job (and the directed one)
    return out / "demo"


def test_demo_writes_the_full_output_folder(demo_folder: Path) -> None:
    for name in ("video.mp4", "overlay.mp4", "input.jpg", "camera.png", "report.html", "job.json",
                 "controls/tracks.json", "controls/camera.json"):
        assert (demo_folder / name).is_file(), name
    record = json.loads((demo_folder / "job.json").read_text())
    assert record["resolved"]["frames"] == 81 and record["resolved"]["tracks"] == 65  # ball + 8×8 grid
    assert any("depth map" in n for n in record["notes"])


def test_demo_directs_a_camera_from_text(demo_folder: Path) -> None:
    from trajkit.jobs.demo import director_available

    if not director_available():
        pytest.skip("the director extra (torch, transformers, MiniLM) is not installed")
    import trajkit
    from trajkit.director.tagging import tag
    from trajkit.jobs.demo import DIRECTED

    folder = demo_folder.parent / "demo-director"
    for name in ("video.mp4", "camera.png", "controls/camera.json", "controls/tracks.json", "report.html"):
        assert (folder / name).is_file(), name
    record = json.loads((folder / "job.json").read_text())
    assert any("directed from text" in n and DIRECTED in n for n in record["notes"])
    camera = trajkit.load(folder / "controls" / "camera.json")
    assert camera.num_frames == 81
    moves = {s.name for s in tag(camera)}
    assert moves & {"move forward + yaw right", "move forward", "static + yaw right"}, moves


def test_report_plays_in_headless_chromium(demo_folder: Path, tmp_path: Path, chromium_executable: str) -> None:
    exe = chromium_executable
    url = (demo_folder / "report.html").resolve().as_uri()
    common = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    match = re.search(r'id="playback">(playing|paused) ([0-9.]+) s / ([0-9.]+) s', dom)
    assert match, dom[-500:]
    assert float(match.group(2)) > 0.5 and float(match.group(3)) == pytest.approx(81 / 16, abs=0.1)
    shot = tmp_path / "report.png"
    subprocess.run([*common, "--window-size=1400,1100", f"--screenshot={shot}", url], capture_output=True,
                   timeout=120)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (1100, 1400) and img.std() > 20  # a real page, not a blank window
