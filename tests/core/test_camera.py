"""``CameraPath`` and ``EntityPaths``: validation, projection, resampling, normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit import CameraPath, EntityPaths, ValidationError
from trajkit.core.camera import intrinsics_matrix
from trajkit.core.rotations import axis_angle_to_matrix, rotation_angle

K = intrinsics_matrix(500.0, 500.0, 320.0, 240.0)


def pan(frames: int = 11, total_deg: float = 30.0, fps: float = 10.0) -> CameraPath:
    """Camera at the origin yawing about its own y axis at constant speed, moving 1 m along x."""
    c2w = np.tile(np.eye(4), (frames, 1, 1))
    angles = np.radians(np.linspace(0, total_deg, frames))
    c2w[:, :3, :3] = axis_angle_to_matrix(angles[:, None] * np.array([0.0, 1.0, 0.0]))
    c2w[:, 0, 3] = np.linspace(0, 1, frames)
    return CameraPath(c2w=c2w, K=K, size=(640, 480), fps=fps, metric=True)


def test_validation() -> None:
    bad = np.eye(4)
    bad[0, 0] = 2
    with pytest.raises(ValidationError, match=r"c2w\[0\]"):
        CameraPath(c2w=bad, K=K, size=(640, 480), fps=8)
    nan = np.eye(4)
    nan[0, 3] = np.nan
    with pytest.raises(ValidationError, match="finite"):
        CameraPath(c2w=nan, K=K, size=(640, 480), fps=8)
    with pytest.raises(ValidationError, match="K"):
        CameraPath(c2w=np.eye(4), K=np.eye(3) * -1, size=(640, 480), fps=8)
    with pytest.raises(ValidationError, match="K"):
        CameraPath(c2w=np.eye(4)[None].repeat(3, 0), K=np.stack([K, K]), size=(640, 480), fps=8)


def test_projection_of_known_points() -> None:
    cam = CameraPath(c2w=np.eye(4), K=K, size=(640, 480), fps=8)
    uv, depth = cam.project(np.array([[0, 0, 2.0], [1, 0.5, 2.0], [0, 0, -1.0]]))
    np.testing.assert_allclose(uv[0, 0], [320, 240])
    np.testing.assert_allclose(uv[0, 1], [320 + 500 * 0.5, 240 + 500 * 0.25])
    assert depth[0, 2] < 0


def test_relative_to_first_and_projection_invariance() -> None:
    cam = pan()
    rel = cam.relative_to_first()
    np.testing.assert_allclose(rel.c2w[0], np.eye(4), atol=1e-12)
    # Moving the world does not change what the camera sees.
    pts = np.array([[0.3, -0.2, 4.0], [-1.0, 0.5, 6.0]])
    world_pts = pts @ cam.c2w[0, :3, :3].T + cam.c2w[0, :3, 3]
    np.testing.assert_allclose(rel.project(pts)[0], cam.project(world_pts)[0], atol=1e-9)


def test_resample_slerp_constant_speed() -> None:
    cam = pan(frames=11, total_deg=30.0, fps=10.0)
    r = cam.resample(21)  # duration kept → 20 fps
    assert r.fps == pytest.approx(20.0)
    angles = np.degrees(rotation_angle(r.R))
    np.testing.assert_allclose(angles, np.linspace(0, 30, 21), atol=1e-9)
    np.testing.assert_allclose(r.centers[:, 0], np.linspace(0, 1, 21), atol=1e-12)
    np.testing.assert_allclose(r.c2w[::2], cam.c2w, atol=1e-12)


def test_normalise_scale_and_rescale() -> None:
    cam = pan()
    norm, s = cam.normalise_scale()
    assert s == pytest.approx(1.0) and not norm.metric
    c2w = cam.c2w.copy()
    c2w[:, :3, 3] *= 5.0
    norm5, s5 = cam.replace(c2w=c2w).normalise_scale()
    assert s5 == pytest.approx(5.0)
    np.testing.assert_allclose(norm5.centers, cam.centers, atol=1e-12)
    scaled = cam.rescale((320, 240))
    np.testing.assert_allclose(scaled.K, intrinsics_matrix(250, 250, 160, 120))


def test_entities_in_camera_and_validation() -> None:
    poses = np.tile(np.eye(4), (2, 5, 1, 1))
    poses[0, :, 2, 3] = 4.0
    cam = CameraPath.static(np.eye(4), K, (640, 480), frames=1, fps=8)
    ent = EntityPaths(poses=poses, prompts=["a dog", "a cat"], fps=8, camera=cam)
    np.testing.assert_allclose(ent.in_camera(), poses)
    moved = cam.replace(c2w=np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1.0], [0, 0, 0, 1]]))
    np.testing.assert_allclose(ent.in_camera(moved)[0, :, 2, 3], 3.0)
    with pytest.raises(ValidationError, match="prompts"):
        EntityPaths(poses=poses, prompts=["only one"], fps=8)
    with pytest.raises(ValidationError, match="camera"):
        EntityPaths(poses=poses, prompts=["a", "b"], fps=8, camera=pan(frames=3, fps=8))
    r = ent.resample(9)
    assert r.num_frames == 9 and r.fps == pytest.approx(16.0) and r.camera is not None


def test_static_camera_projects_moving_points() -> None:
    cam = CameraPath(c2w=np.eye(4), K=K, size=(640, 480), fps=8)
    pts = np.array([[[0.0, 0.0, 2.0]], [[1.5, 0.0, 2.0]], [[0.0, 0.0, -1.0]]])  # (T=3, P=1, 3)
    uv, depth = cam.project(pts)
    np.testing.assert_allclose(uv[:2, 0], [[320, 240], [695, 240]])
    assert cam.in_view(uv, depth).ravel().tolist() == [True, False, False]  # out of canvas, then behind
    with pytest.raises(ValidationError):
        pan(frames=2).project(pts)
