"""The ``lk`` tracker on videos whose true motion is known: the sprite scene, an occluder passing over a point,
repetitive bricks, queries after frame 0; and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit.core.errors import TrajkitError
from trajkit.evaluate.scenes import sprite_scene
from trajkit.measure.queries import grid_queries, point_queries, tracks_queries
from trajkit.measure.trackers import track_video


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    """Smooth random colour texture (blurred noise), uint8 (H, W, 3)."""
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (h // 4 + 1, w // 4 + 1, 3)).astype(np.float32)
    return np.clip(cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def test_sprite_scene_tracks_follow_the_truth() -> None:
    video, truth, _ = sprite_scene(size=(320, 240), frames=25)
    measured = track_video(video, tracks_queries(truth))
    err = np.linalg.norm(measured.xy - truth.xy, axis=-1)
    assert measured.visible.all()
    assert err.max() < 0.5, err.max(axis=0)
    assert measured.size == (320, 240) and measured.meta["tracker"] == "lk"


def test_occluded_point_is_hidden_then_found_again() -> None:
    """A textured square slides over a static background point: hidden while covered, found again after."""
    h, w, frames = 160, 240, 33
    background = _texture(h, w, 0)
    square = _texture(40, 40, 1)[..., ::-1]
    video = np.repeat(background[None], frames, axis=0)
    xs = np.linspace(10, 190, frames).round().astype(int)
    for t, x in enumerate(xs):
        video[t, 60:100, x:x + 40] = square
    point = (120.5, 80.5)  # covered while the square spans x 81 … 120
    covered = np.array([x <= 120 - 6 and x + 40 >= 121 + 6 for x in xs])
    clear_after = np.array([x > 121 + 12 for x in xs])
    measured = track_video(video, point_queries([point]))
    vis = measured.visible[:, 0]
    assert not vis[covered].any(), "a covered point must not be reported visible"
    assert vis[clear_after].all(), "the point must be found again once uncovered"
    err = np.linalg.norm(measured.xy[clear_after, 0] - np.array(point), axis=-1)
    assert err.max() < 0.5


def test_repetitive_texture_does_not_jump_a_period() -> None:
    """Bricks (period 20 px) panning 1.5 px a frame: every point stays on its own brick."""
    import cv2

    h, w, frames = 160, 240, 41
    yy, xx = np.mgrid[0:h, 0:w + 80]
    course = yy // 20
    mortar = ((yy % 20) < 2) | (((xx + 20 * (course % 2)) % 40) < 2)
    wall = np.where(mortar, 90, 200).astype(np.uint8)
    wall = cv2.GaussianBlur(np.repeat(wall[..., None], 3, axis=-1), (3, 3), 0)
    shift = 1.5 * np.arange(frames)
    video = np.stack([cv2.warpAffine(wall, np.float32([[1, 0, -s], [0, 1, 0]]), (w, h)) for s in shift])
    queries = grid_queries((w, h), (6, 4))
    measured = track_video(video, queries)
    want = queries[None, :, 1:] - np.stack([shift, np.zeros(frames)], -1)[:, None]
    err = np.linalg.norm(measured.xy - want, axis=-1)[measured.visible]
    assert err.max() < 2.0
    assert measured.visible[-1].mean() > 0.6


def test_queries_after_frame_zero_are_tracked_backwards() -> None:
    video, truth, _ = sprite_scene(size=(320, 240), frames=21)
    q = tracks_queries(truth)
    q[:, 0] = 12
    q[:, 1:] = truth.xy[12]
    measured = track_video(video, q)
    err = np.linalg.norm(measured.xy - truth.xy, axis=-1)
    assert err[:12].max() < 0.5 and err[12:].max() < 0.5
    assert measured.meta["query_frames"] == [12] * truth.num_tracks


@pytest.mark.parametrize(("video", "queries", "message"), [
    (np.zeros((5, 32, 32, 3), np.float32), [[0, 5, 5]], "uint8"),
    (np.zeros((5, 32, 32), np.uint8), [[0, 5, 5]], "(T, H, W, 3)"),
    (np.zeros((1, 32, 32, 3), np.uint8), [[0, 5, 5]], "at least 2"),
    (np.zeros((5, 32, 32, 3), np.uint8), [[0, 50, 5]], "outside"),
    (np.zeros((5, 32, 32, 3), np.uint8), [[7, 5, 5]], "shorter than the tracks"),
    (np.zeros((5, 32, 32, 3), np.uint8), [[0, np.nan, 5]], "NaN"),
    (np.zeros((5, 32, 32, 3), np.uint8), [[0.5, 5, 5]], "frame"),
    (np.zeros((5, 32, 32, 3), np.uint8), [5, 5], "(N, 3)"),
])
def test_bad_input_is_named(video: np.ndarray, queries: list, message: str) -> None:
    with pytest.raises(TrajkitError, match=None) as info:
        track_video(video, np.asarray(queries, dtype=float))
    assert message in str(info.value)


def test_unknown_tracker_and_options() -> None:
    video = np.zeros((3, 32, 32, 3), np.uint8)
    with pytest.raises(TrajkitError, match="unknown tracker"):
        track_video(video, point_queries([(5, 5)]), tracker="raft")
    with pytest.raises(TrajkitError, match="unknown option"):
        track_video(video, point_queries([(5, 5)]), speed=3)
    with pytest.raises(TrajkitError, match="odd"):
        track_video(video, point_queries([(5, 5)]), window=20)


def test_read_video_bounds(tmp_path) -> None:
    from trajkit.measure.video import read_video
    from trajkit.viz.video import write_mp4

    video = np.repeat(_texture(64, 96, 3)[None], 12, axis=0)
    write_mp4(tmp_path / "v.mp4", video, 16)
    frames, fps = read_video(tmp_path / "v.mp4", size=(48, 32))
    assert frames.shape == (12, 32, 48, 3) and fps == pytest.approx(16)
    with pytest.raises(TrajkitError, match="more than 10 frames"):
        read_video(tmp_path / "v.mp4", max_frames=10)
    with pytest.raises(TrajkitError, match="MiB"):
        read_video(tmp_path / "v.mp4", max_bytes=64 * 96 * 3 * 5)
    with pytest.raises(TrajkitError, match="no such video"):
        read_video(tmp_path / "missing.mp4")
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(TrajkitError, match="not a readable video"):
        read_video(tmp_path / "bad.mp4")
