"""Motion transfer: tracks taken back out of a video, through the CLI, into ATI's format and a job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trajkit.cli.main import app
from trajkit.core.tracks import Tracks
from trajkit.formats.registry import load

runner = CliRunner()


@pytest.fixture(scope="module")
def bear(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Tracks, Path]:
    """ATI's bear example rendered by the preview as ``trajkit generate`` would (81 frames on the Wan canvas),
    written to an H.264 mp4; returns the requested tracks and the video file."""
    from trajkit.backends import get_backend
    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import load_jobs
    from trajkit.viz.video import write_mp4

    specs = load_jobs(data_dir / "ati" / "test.yaml")
    index = next(i for i, s in enumerate(specs) if "bear" in (s.image or ""))
    job = resolve_job(specs[index], data_dir / "ati", index, "preview")
    video = get_backend("preview").generate(job.request)
    path = tmp_path_factory.mktemp("bear") / "bear_preview.mp4"
    write_mp4(path, video.frames, video.fps)
    assert job.request.tracks is not None
    return job.request.tracks, path


def test_tracks_from_video_recovers_bear_tracks_through_ati_pth(bear: tuple[Tracks, Path], tmp_path: Path) -> None:
    """Acceptance: the tracks recovered from the bear's preview land ≤ 2 px (median) from the tracks the preview
    was asked to follow, and the ATI ``.pth`` written on the way is read back by trajkit's ATI reader."""
    asked, video = bear
    first = asked.visible[0]
    assert first.sum() >= 3
    points = " ".join(f"{x:.3f},{y:.3f}" for x, y in asked.xy[0, first])
    out = tmp_path / "bear_from_video.pth"
    result = runner.invoke(app, ["tracks", "from-video", str(video), "--points", points, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    back = load(out, size=asked.size)
    assert isinstance(back, Tracks) and back.num_frames == 121  # ATI's fixed timeline
    recovered = back.resample(asked.num_frames, fps=asked.fps, method="linear")
    want = asked.select(np.flatnonzero(first))
    both = want.visible & recovered.visible
    err = np.linalg.norm(recovered.xy - want.xy, axis=-1)[both]
    assert both.mean() > 0.6, "most of the requested points should stay visible to the tracker"
    assert np.median(err) <= 2.0, f"median landing error {np.median(err):.2f} px"


def test_tracks_from_video_can_fail(bear: tuple[Tracks, Path], tmp_path: Path) -> None:
    """The same comparison against another example's tracks is far off: the check above can fail."""
    asked, video = bear
    first = asked.visible[0]
    points = " ".join(f"{x:.3f},{y:.3f}" for x, y in asked.xy[0, first])
    out = tmp_path / "bear.json"
    assert runner.invoke(app, ["tracks", "from-video", str(video), "--points", points, "-o", str(out), "-q"]
                         ).exit_code == 0
    got = load(out)
    wrong = asked.select(np.flatnonzero(first)).replace(xy=asked.select(np.flatnonzero(first)).xy[::-1].copy())
    err = np.linalg.norm(got.xy - wrong.xy, axis=-1)[got.visible & wrong.visible]
    assert np.median(err) > 5.0


def test_grid_from_video_and_bad_inputs(bear: tuple[Tracks, Path], tmp_path: Path) -> None:
    asked, video = bear
    out = tmp_path / "grid.json"
    ok = runner.invoke(app, ["tracks", "from-video", str(video), "--grid", "4x3", "-o", str(out), "--json"])
    assert ok.exit_code == 0, ok.output
    grid = load(out)
    assert grid.num_tracks == 12 and grid.num_frames == 81 and grid.size == asked.size
    cases = {
        "outside": (["--points", "5000,10"], "outside"),
        "late": (["--points", "100,100", "--frame", "500"], "shorter than the tracks"),
        "both": (["--points", "1,1", "--grid", "2x2"], "not both"),
        "grid": (["--grid", "0x4"], "--grid"),
        "tracker": (["--tracker", "nope"], "unknown tracker"),
    }
    for name, (args, message) in cases.items():
        r = runner.invoke(app, ["tracks", "from-video", str(video), "-o", str(tmp_path / f"{name}.json"), *args])
        assert r.exit_code == 1 and message in r.output, (name, r.output)
        assert "Traceback" not in r.output
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    r = runner.invoke(app, ["tracks", "from-video", str(junk), "-o", str(tmp_path / "j.json")])
    assert r.exit_code == 1 and "not a readable video" in r.output


def test_job_takes_tracks_from_a_video(bear: tuple[Tracks, Path], tmp_path: Path) -> None:
    """``tracks: {video: …, grid: […]}`` in a job: the reference's motion on the job's own canvas and timeline."""
    import yaml

    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import load_jobs

    _, video = bear
    job_file = tmp_path / "job.yaml"
    job_file.write_text(yaml.safe_dump({"image": str(video.with_suffix(".png")),
                                        "tracks": {"video": str(video), "grid": [4, 2]}, "frames": 41,
                                        "size": [416, 240]}))
    import cv2

    from trajkit.viz.video import read_mp4

    frames, _ = read_mp4(video)
    cv2.imwrite(str(video.with_suffix(".png")), frames[0][..., ::-1])
    job = resolve_job(load_jobs(job_file)[0], tmp_path)
    tracks = job.request.tracks
    assert tracks is not None and tracks.num_tracks == 8 and tracks.num_frames == 41 and tracks.size == (416, 240)
    assert any("taken from" in n for n in job.notes)


def test_camera_from_video_cli_and_job(tmp_path: Path) -> None:
    """``trajkit camera from-video`` writes a camera file (scale unknown) and a job takes ``camera: {video}``;
    a pan read back from its own video is a pan (yaw), not a tilt."""
    import yaml
    from PIL import Image

    from trajkit.author.grammar import parse_moves
    from trajkit.core.camera import CameraPath
    from trajkit.evaluate.camera import camera_metrics
    from trajkit.evaluate.scenes import DemoScene
    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import load_jobs
    from trajkit.viz.video import write_mp4

    scene = DemoScene()
    pan = parse_moves("pan right 6deg over 1s").path(fps=16, size=scene.size, hfov=scene.hfov).resample(13)
    video, _ = scene.render(pan, rolling=False)
    write_mp4(tmp_path / "pan.mp4", video, 16)
    out = tmp_path / "pan_cam.json"
    r = runner.invoke(app, ["camera", "from-video", str(tmp_path / "pan.mp4"), "--hfov", "60", "--method",
                            "essential", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    got = load(out)
    assert isinstance(got, CameraPath) and not got.metric and got.num_frames == 13
    tilt = parse_moves("tilt up 6deg over 1s").path(fps=16, size=scene.size, hfov=scene.hfov).resample(13)
    assert camera_metrics(pan, got)["rot_err_deg_per_frame"] < 0.3
    assert camera_metrics(tilt, got)["rot_err_deg_per_frame"] > 2.0
    Image.fromarray(video[0]).save(tmp_path / "first.png")
    (tmp_path / "job.yaml").write_text(yaml.safe_dump({
        "image": "first.png", "frames": 13, "size": list(scene.size),
        "camera": {"video": "pan.mp4", "hfov": 60, "method": "essential"}}))
    job = resolve_job(load_jobs(tmp_path / "job.yaml")[0], tmp_path)
    assert job.request.camera is not None and any("camera estimated from pan.mp4" in n for n in job.notes)
    r = runner.invoke(app, ["camera", "from-video", str(tmp_path / "pan.mp4"), "--method", "magic", "-o", str(out)])
    assert r.exit_code == 1 and "--method" in r.output
