"""3DTrajMaster's pose vectors against the spec's reference tensor (§13), and their frame rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trajkit.control.trajmaster import default_latent_frames, latent_source_frames, pose_embeds, pose_vectors
from trajkit.core.errors import TrajkitError, ValidationError
from trajkit.formats.trajmaster import latent_frame_indices, read_trajectory

REFERENCE = {  # spec §13: camera 12, start 10, no reversal
    (0, 0): [0.005314, 0.093339, 0.995620, -0.0, 0.995634, -0.093341, -0.999986, 0.000496, 0.005291,
             1.961000, 2.211707, 7.831749],
    (0, -1): [0.005314, 0.093339, 0.995620, -0.0, 0.995634, -0.093341, -0.999986, 0.000496, 0.005291,
              -1.215000, 2.213294, 7.848675],
    (1, 0): [0.206134, -0.091336, -0.974252, -0.0, 0.995634, -0.093341, 0.978524, 0.019241, 0.205234,
             -1.297000, 2.379253, 9.618913],
    (1, -1): [-0.138169, 0.092445, 0.986085, -0.0, 0.995634, -0.093341, -0.990409, -0.012897, -0.137566,
              -0.173000, 2.021478, 5.802647],
    (2, 0): [-0.597642, 0.074837, 0.798263, -0.0, 0.995634, -0.093341, -0.801763, -0.055784, -0.595033,
             0.553000, 2.137221, 7.037233],
    (2, -1): [0.021440, -0.093319, -0.995405, -0.0, 0.995634, -0.093341, 0.999770, 0.002001, 0.021346,
              0.408000, 2.333236, 9.128065],
}


def _clip(data_dir: Path, camera: int = 12):
    folder = data_dir / "trajmaster"
    return read_trajectory(folder / "D_loc1_61_t3n13_003d_Hemi12_1.json",
                           location_data=folder / "location_data_desert.json",
                           rig=folder / "Hemi12_transforms.json", camera=camera)


def test_reference_tensor(data_dir: Path) -> None:
    vectors = pose_vectors(_clip(data_dir))
    assert vectors.shape == (3, 13, 12) and vectors.dtype == np.float64
    for (entity, latent), expected in REFERENCE.items():
        np.testing.assert_allclose(vectors[entity, latent], expected, atol=1e-5)
    assert vectors.sum() == pytest.approx(436.083154, abs=1e-5)
    assert np.abs(vectors).sum() == pytest.approx(570.543730, abs=1e-5)
    R = vectors[..., :9].reshape(3, 13, 3, 3).swapaxes(-1, -2)  # column-major back to matrices
    np.testing.assert_allclose(R @ R.swapaxes(-1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-6)
    np.testing.assert_allclose(vectors[..., 3:6], np.broadcast_to([0, 0.995634, -0.093341], (3, 13, 3)), atol=1e-6)
    t = vectors[..., 9:]
    assert t[..., 0].min() == pytest.approx(-1.507, abs=1e-3) and t[..., 0].max() == pytest.approx(1.980, abs=1e-3)
    assert t[..., 2].min() == pytest.approx(5.803, abs=1e-3) and t[..., 2].max() == pytest.approx(9.741, abs=1e-3)


def test_other_camera_reversal_and_bf16(data_dir: Path) -> None:
    np.testing.assert_allclose(pose_vectors(_clip(data_dir, camera=1))[0, 0],
                               [-0.495391, 0.081082, 0.864878, 0.0, 0.995634, -0.093341, -0.868670, -0.046240,
                                -0.493228, 1.696276, 2.303177, 8.807435], atol=1e-5)
    clip = _clip(data_dir)
    reversed_first = pose_vectors(clip, frames=latent_frame_indices(reverse=True))[0, 0]
    np.testing.assert_allclose(reversed_first[9:], [-1.332000, 2.213387, 7.849671], atol=1e-5)
    embeds = pose_embeds(clip)
    assert embeds.shape == (1, 3, 13, 12) and embeds.dtype == torch.bfloat16
    np.testing.assert_allclose(embeds[0, 0, 0].float().numpy(),
                               [0.005310, 0.093262, 0.996094, 0, 0.996094, -0.093262, -1.0, 0.000496, 0.005280,
                                1.960938, 2.218750, 7.843750], atol=1e-5)
    assert np.abs(embeds.double()[0].numpy() - pose_vectors(clip)).max() == pytest.approx(0.031, abs=2e-3)


def test_frame_rules_and_entity_limits(data_dir: Path) -> None:
    assert latent_source_frames(np.arange(49)).tolist() == [0] + [4 * k - 2 for k in range(1, 13)]
    assert len(default_latent_frames(81)) == 21 and len(default_latent_frames(13)) == 4
    assert default_latent_frames(99).tolist()[:3] == [10, 14, 21]
    with pytest.raises(ValidationError, match="4k"):
        default_latent_frames(50)
    clip = _clip(data_dir)
    for count in (1, 2):
        assert pose_vectors(clip.select(list(range(count)))).shape == (count, 13, 12)
    four = clip.replace(poses=np.concatenate([clip.poses, clip.poses[:1]]), prompts=[*clip.prompts, "extra"])
    with pytest.raises(TrajkitError, match="1–3 entities"):
        pose_vectors(four)
    with pytest.raises(ValidationError, match="latent source frames"):
        pose_vectors(clip, frames=[0, 120])
    short = clip.resample(49)
    assert pose_vectors(short).shape == (3, 13, 12)
