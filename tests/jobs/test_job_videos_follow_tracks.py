"""The written videos of a job and of ``trajkit demo`` move as their ``controls/tracks.json`` asks.

The motion is measured back from ``video.mp4`` itself (as written: encoded, then decoded) with OpenCV's pyramidal
Lucas–Kanade tracker — frame to frame, forward–backward checked — as the preview tests measure rendered frames, and
compared with the tracks the job folder records. Each check also shows it can fail: the same comparison against a
video that does not move (the first frame held) must be far off.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import trajkit
from trajkit.cli.main import app
from trajkit.viz.video import read_mp4

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from preview_ati import lk_follow

runner = CliRunner()


def landing_errors(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per point-frame distances (px) between where LK finds each track in ``folder/video.mp4`` and where
    ``controls/tracks.json`` asks it to be — for the video and for its first frame held still."""
    video, _ = read_mp4(folder / "video.mp4")
    tracks = trajkit.load(folder / "controls" / "tracks.json")
    w, h = tracks.size
    video = video[:, :h, :w]  # odd sizes are padded to even in the file
    assert video.shape[0] == tracks.num_frames
    first = tracks.visible[0]
    asked = tracks.xy[:, first] - 0.5  # canvas (pixel centres at i + 0.5) → array coordinates
    inside = (asked[..., 0] > 10) & (asked[..., 0] < w - 10) & (asked[..., 1] > 10) & (asked[..., 1] < h - 10)
    errors = []
    for frames in (video, np.repeat(video[:1], len(video), axis=0)):
        seen, reliable = lk_follow(frames, asked[0])
        use = reliable & tracks.visible[:, first] & inside
        use[0] = False
        assert use.sum() >= 20 * tracks.num_frames // 10, "too few reliable point-frames to judge"
        errors.append(np.linalg.norm(seen - asked, axis=-1)[use])
    return errors[0], errors[1]


def check_follows(folder: Path) -> None:
    moving, still = landing_errors(folder)
    assert np.median(moving) <= 1.0, f"{folder.name}: median landing error {np.median(moving):.2f} px"
    assert np.median(still) >= 4.0, f"{folder.name}: the tracks barely move ({np.median(still):.2f} px)"


def test_generated_job_video_follows_its_tracks(data_dir: Path, tmp_path: Path) -> None:
    """ATI's fish example through ``trajkit generate`` (preview backend, 81 frames on the Wan canvas)."""
    ati = data_dir / "ati"
    job = {"name": "fish", "image": str(ati / "images" / "fish.jpg"), "tracks": str(ati / "tracks" / "fish.pth"),
           "backend": "preview"}
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    result = runner.invoke(app, ["generate", str(tmp_path / "job.yaml"), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["done"] == 1
    check_follows(tmp_path / "out" / "fish")


def test_demo_videos_follow_their_tracks(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Both demo jobs: the ball and the 8×8 camera grid bridged through the exact depth."""
    from trajkit.jobs.demo import director_available

    out = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    folders = [out / "demo"] + ([out / "demo-director"] if director_available() else [])
    for folder in folders:
        check_follows(folder)
