"""CLaTr's [120, 9] trajectory features (shared/specs/gendop.md §8.2 test vectors and closed forms)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trajkit.core.errors import ValidationError
from trajkit.core.rotations import axis_angle_to_matrix
from trajkit.evaluate.clatr import camera_features, features_to_matrices, trajectory_features
from trajkit.formats import load

# §8.2: Σ‖velocity‖ and the final relative translation, from an independent re-implementation
VECTORS = {
    "case1": (0.19008, (0.13396, 0.03893, -0.11842)),
    "case2": (0.10468, (-0.05223, 0.00645, -0.08791)),
    "case3": (0.29437, (-0.01534, 0.01872, -0.29314)),
}


def gl_poses(path) -> np.ndarray:
    return np.array([f["transform_matrix"] for f in json.loads(path.read_text())["frames"]], dtype=np.float64)


@pytest.mark.parametrize("case", sorted(VECTORS))
def test_features_of_the_datadop_examples_match_the_spec_vectors(data_dir, case):
    path = data_dir / "gendop" / "text_rgbd" / f"{case}_transforms_cleaning.json"
    features = trajectory_features(gl_poses(path))
    total, final = VECTORS[case]
    assert features.shape == (120, 9) and features.dtype == np.float32
    assert np.linalg.norm(features[:, 6:], axis=1).sum() == pytest.approx(total, abs=1e-5)
    assert features_to_matrices(features)[-1, :3, 3] == pytest.approx(final, abs=1e-5)
    # frame 0 is the identity: rot6d (1,0,0, 0,1,0) and no translation
    assert features[0] == pytest.approx([1, 0, 0, 0, 1, 0, 0, 0, 0], abs=1e-6)
    # the trajkit camera (OpenCV axes, read through formats) gives GenDoP's OpenGL features
    assert np.allclose(camera_features(load(path)), features, atol=1e-6)


def test_rot6d_holds_the_first_two_columns_and_translation_velocities():
    """A pose rotated by 90° about z then moved: relative rotation columns and per-frame steps by hand."""
    first = np.eye(4)
    first[:3, :3] = axis_angle_to_matrix(np.array([0.3, -0.2, 0.5]))
    first[:3, 3] = [4.0, -2.0, 1.0]
    rel = np.tile(np.eye(4), (3, 1, 1))
    rel[1, :3, :3] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
    rel[1, :3, 3] = [0.1, 0.0, -0.2]
    rel[2, :3, :3] = rel[1, :3, :3]
    rel[2, :3, 3] = [0.3, 0.1, -0.2]
    features = trajectory_features(first @ rel)  # the first pose is factored out
    assert features[1, :6] == pytest.approx([0, 1, 0, -1, 0, 0], abs=1e-6)
    assert features[1, 6:] == pytest.approx([0.1, 0.0, -0.2], abs=1e-6)
    assert features[2, 6:] == pytest.approx([0.2, 0.1, 0.0], abs=1e-6)
    assert np.allclose(features_to_matrices(features), rel, atol=1e-6)


def test_inverse_orthonormalises_skewed_columns_and_batches():
    # columns not unit and not orthogonal: x = c0/|c0|, z ∝ x × c1, y = z × x. Second frame:
    # x = (0,0,1), z ∝ (0,0,1) × (0,2,1) = (−2,0,0) → (−1,0,0), y = z × x = (0,1,0)
    f = np.array([[2.0, 0, 0, 1.0, 3.0, 0, 0, 0, 0], [0, 0, 5.0, 0, 2.0, 1.0, 1, 2, 3]], dtype=np.float32)
    m = features_to_matrices(np.stack([f, f]))
    assert m.shape == (2, 2, 4, 4)
    assert np.allclose(m[0, 0, :3, :3], np.eye(3), atol=1e-6)
    assert np.allclose(m[0, 1, :3, :3], [[0, 0, -1], [0, 1, 0], [1, 0, 0]], atol=1e-6)
    assert m[0, 1, :3, 3] == pytest.approx([1, 2, 3])


@pytest.mark.parametrize("bad", [np.zeros((120, 3, 4)), np.full((2, 4, 4), np.nan)])
def test_bad_poses_are_named(bad):
    with pytest.raises(ValidationError, match="c2w"):
        trajectory_features(bad)


def test_bad_feature_width_is_named():
    with pytest.raises(ValidationError, match=r"\(\.\.\., T, 9\)"):
        features_to_matrices(np.zeros((120, 12)))
