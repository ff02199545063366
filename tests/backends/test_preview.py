"""The preview animatic: motion measured back with OpenCV's LK tracker follows the input tracks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trajkit import Tracks, ValidationError
from trajkit.author import tracks as shapes
from trajkit.backends.base import GenerationRequest
from trajkit.backends.preview import PreviewBackend, fade_weights, render_preview

W, H = 320, 240


def textured_image(seed: int = 0) -> np.ndarray:
    """Smooth random texture (trackable everywhere)."""
    rng = np.random.default_rng(seed)
    noise = rng.random((H // 4, W // 4, 3)).astype(np.float32)
    img = cv2.resize(noise, (W, H), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def lk_track(frames: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Positions ``(T, P, 2)`` of ``points`` tracked from frame 0 with pyramidal LK (forward, frame to frame)."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    out = [points.astype(np.float32)]
    for t in range(1, len(frames)):
        nxt, _status, _ = cv2.calcOpticalFlowPyrLK(gray[t - 1], gray[t], out[-1].reshape(-1, 1, 2), None,
                                                  winSize=(21, 21), maxLevel=3)
        out.append(nxt.reshape(-1, 2))
    return np.stack(out)


def grid_tracks(motion, frames: int = 17) -> Tracks:
    """A 5×4 grid of tracks moved by ``motion(points, s)`` with s in [0, 1]."""
    xs, ys = np.meshgrid(np.linspace(40, W - 40, 5), np.linspace(40, H - 40, 4))
    p0 = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    xy = np.stack([motion(p0, s) for s in np.linspace(0, 1, frames)])
    return Tracks(xy=xy, visible=np.ones(xy.shape[:2], bool), size=(W, H), fps=8)


@pytest.mark.parametrize(
    "motion",
    [
        lambda p, s: p + s * np.array([18.0, -10.0]),  # translation
        lambda p, s: (p - [160, 120]) @ np.array([[1 + 0.08 * s, -0.06 * s], [0.06 * s, 1 + 0.08 * s]]).T
        + [160, 120] + s * np.array([6.0, 4.0]),  # affine: zoom + rotation + shift
    ],
)
def test_lk_follows_the_tracks(motion) -> None:
    tracks = grid_tracks(motion)
    video = render_preview(textured_image(), tracks)
    seen = lk_track(video, tracks.xy[0])
    err = np.linalg.norm(seen - tracks.xy, axis=-1)
    assert np.median(err) <= 1.0


def test_static_anchors_stay_put_while_others_move() -> None:
    mover = shapes.path_track([[70, 120], [120, 120]], frames=17, fps=8, size=(W, H))
    anchors = shapes.static_points([[250, 60], [260, 180], [220, 120]], frames=17, fps=8, size=(W, H))
    tracks = Tracks.concatenate([mover, anchors])
    video = render_preview(textured_image(1), tracks)
    seen = lk_track(video, anchors.xy[0])
    drift = np.linalg.norm(seen - anchors.xy, axis=-1)
    assert drift.max() <= 0.5
    moved = lk_track(video, mover.xy[0])
    assert np.linalg.norm(moved[-1] - mover.xy[-1], axis=-1).max() <= 1.5


def test_fade_weights_ramp() -> None:
    vis = np.array([[1], [1], [0], [0], [0], [1], [1], [1]], dtype=bool)
    a = fade_weights(vis, 2)[:, 0]
    np.testing.assert_allclose(a, [1, 1, 0.5, 0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(fade_weights(vis, 1)[:, 0], vis[:, 0])


def test_backend_validation_and_no_tracks() -> None:
    backend = PreviewBackend()
    img = textured_image()
    still = backend.generate(GenerationRequest(size=(W, H), frames=5, fps=8, image=img))
    assert still.frames.shape == (5, H, W, 3) and (still.frames == img).all()
    tracks = grid_tracks(lambda p, s: p)
    with pytest.raises(ValidationError, match="options"):
        backend.generate(GenerationRequest(size=(W, H), frames=17, fps=8, image=img, tracks=tracks,
                                           options={"blur": 3}))
    with pytest.raises(ValidationError, match="image"):
        backend.generate(GenerationRequest(size=(W, H), frames=17, fps=8, tracks=tracks))
    with pytest.raises(ValidationError, match=r"tracks\.size"):
        render_preview(img, tracks.replace(size=(100, 100)))
