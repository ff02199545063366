"""Camera motion composed onto object tracks."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit import ValidationError
from trajkit.author import camera as mv
from trajkit.author import tracks as shapes
from trajkit.bridge import add_camera_motion, camera_to_tracks


def test_static_camera_leaves_tracks_unchanged() -> None:
    cam = mv.hold(2.0).path(fps=8, size=(640, 360))
    car = shapes.path_track([[500, 200], [100, 220]], frames=cam.num_frames, fps=8, size=(640, 360))
    out = add_camera_motion(car, cam)
    np.testing.assert_allclose(out.xy, car.xy, atol=1e-6)
    assert (out.visible == car.visible).all()


def test_anchor_becomes_the_camera_bridge_track() -> None:
    cam = (mv.truck(0.5) & mv.pan(10)).path(fps=8, size=(640, 360))
    anchor = shapes.static_points([[200, 150]], frames=cam.num_frames, fps=8, size=(640, 360))
    composed = add_camera_motion(anchor, cam, distance=4.0)
    bridged = camera_to_tracks(cam, points=np.array([[200.0, 150.0]]), fallback="plane", distance=4.0)
    np.testing.assert_allclose(composed.xy, bridged.xy, atol=1e-9)


def test_car_left_while_camera_pans_right() -> None:
    cam = mv.pan(20, easing="linear").path(fps=8, size=(640, 360))
    car = shapes.path_track([[400, 200], [300, 200]], frames=cam.num_frames, fps=8, size=(640, 360))
    out = add_camera_motion(car, cam, distance=10.0)
    # Pure rotation: independent check with the rotation homography x_t ~ K Rᵀ_t K⁻¹ x.
    K = cam.Ks[0]
    for t in (0, 8, cam.num_frames - 1):
        x = K @ cam.R[t].T @ np.linalg.inv(K) @ [*car.xy[t, 0], 1.0]
        np.testing.assert_allclose(out.xy[t, 0], x[:2] / x[2], atol=1e-6)
    # Both motions push the car left in the image: further than either alone.
    pan_only = add_camera_motion(shapes.static_points([[400, 200]], frames=cam.num_frames, fps=8,
                                                      size=(640, 360)), cam, distance=10.0)
    assert out.xy[-1, 0, 0] < pan_only.xy[-1, 0, 0] < 400 and out.xy[-1, 0, 0] < 300


def test_depth_map_and_validation() -> None:
    cam = mv.truck(1.0).path(fps=4, size=(320, 180))
    pts = shapes.static_points([[80, 90], [240, 90]], frames=cam.num_frames, fps=4, size=(320, 180))
    depth = np.full((18, 32), 8.0)
    depth[:, :16] = 2.0  # the left point is near, the right one far: more parallax on the left
    out = add_camera_motion(pts, cam, depth=depth)
    shift = out.xy[-1, :, 0] - out.xy[0, :, 0]
    assert shift[0] == pytest.approx(4 * shift[1], rel=1e-6)
    with pytest.raises(ValidationError, match="frames"):
        add_camera_motion(pts.resample(3), cam)
