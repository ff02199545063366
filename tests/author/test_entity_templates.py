"""Entity templates: exact path geometry, facing, and placement in 3DTrajMaster's rig convention."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit import ValidationError
from trajkit.author import entities as tpl
from trajkit.core.conventions import opencv_to_trajmaster_camera


def _render(template: tpl.Template, frames: int = 201) -> tuple[np.ndarray, np.ndarray]:
    return template.shape(np.linspace(0, 1, frames))


def test_straight_arc_spin_geometry() -> None:
    xz, heading = _render(tpl.straight(4.0, direction=90))
    np.testing.assert_allclose(xz[-1], [4.0, 0.0], atol=1e-12)  # to the right
    np.testing.assert_allclose(heading, np.pi / 2)
    xz, heading = _render(tpl.arc(3.0, 90.0, direction=0.0))  # walk away, turn right
    length = np.linalg.norm(np.diff(xz, axis=0), axis=1).sum()
    assert length == pytest.approx(3.0 * np.pi / 2, rel=1e-4)
    np.testing.assert_allclose(xz[-1], [3.0, 3.0], atol=1e-9)
    assert heading[-1] == pytest.approx(np.pi / 2)
    xz, heading = _render(tpl.arc(2.0, -180.0, direction=0.0))  # U-turn to the left
    np.testing.assert_allclose(xz[-1], [-4.0, 0.0], atol=1e-9)
    xz, heading = _render(tpl.spin(360.0))
    assert np.abs(xz).max() == 0 and heading[-1] == pytest.approx(2 * np.pi)
    xz, _ = _render(tpl.circle(2.0))
    np.testing.assert_allclose(xz[-1], xz[0], atol=1e-9)


def test_turn_and_zigzag() -> None:
    xz, heading = _render(tpl.turn(90.0, leg=2.0, direction=0.0))
    np.testing.assert_allclose(xz[-1], [2.0, 2.0], atol=1e-9)
    assert heading[0] == 0 and heading[-1] == pytest.approx(np.pi / 2)
    xz, _ = _render(tpl.zigzag(6.0, 1.0, count=3, direction=0.0), frames=601)
    assert xz[-1, 1] == pytest.approx(6.0) and np.ptp(xz[:, 0]) == pytest.approx(1.0, abs=1e-2)
    with pytest.raises(ValidationError):
        tpl.zigzag(count=0)


def test_entities_face_along_their_path() -> None:
    ents = tpl.place([tpl.arc(3.0, 90.0, direction=0.0)], ["a deer"], frames=49)
    facing = ents.poses[0, :, :3, 2]  # object z = facing, in the world
    velocity = np.gradient(ents.positions[0], axis=0)
    velocity /= np.linalg.norm(velocity, axis=1, keepdims=True)
    assert (np.sum(facing * velocity, axis=1) > 0.99).all()
    fixed = tpl.place([tpl.arc(3.0, 90.0, direction=0.0)], ["a deer"], frames=49, heading="fixed")
    np.testing.assert_allclose(fixed.poses[0, -1, :3, :3], fixed.poses[0, 0, :3, :3])


def test_placement_matches_the_360_motion_convention() -> None:
    ents = tpl.place([tpl.straight(3.0), tpl.spin(), tpl.arc(2.0, 90.0)], ["a", "b", "c"], distance=8.0,
                     frames=49, fps=8)
    assert ents.num_entities == 3 and ents.num_frames == 49 and ents.camera is not None
    vec = opencv_to_trajmaster_camera(ents.in_camera())
    up_column = vec[..., :3, 1]
    # trajmaster.md §2.4: every upright entity seen from a rig camera has this up column.
    np.testing.assert_allclose(up_column, np.broadcast_to([0, 0.995634, -0.093341], up_column.shape), atol=1e-6)
    t = vec[..., :3, 3]
    assert ((t[..., 1] > 2.0) & (t[..., 1] < 2.4)).all()  # y_cam ≈ 2.0–2.4 m like the dataset
    pitch = np.arcsin(0.0933407)
    assert t[1, 0, 2] == pytest.approx(8.0 * np.cos(pitch) - 1.47103 * np.sin(pitch), abs=1e-9)  # pivot above
    assert t[1, 0, 1] == pytest.approx(8.0 * np.sin(pitch) + 1.47103 * np.cos(pitch), abs=1e-9)
    np.testing.assert_allclose(t[:, 0, 0], [-2.0, 0.0, 2.0], atol=1e-9)  # side by side, 2 m apart
    with pytest.raises(ValidationError):
        tpl.place([tpl.straight()], ["a", "b"])
