"""GenDoP's camera tokenizer (shared/specs/gendop.md §2.8 test vectors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trajkit.core.errors import ValidationError
from trajkit.core.rotations import matrix_to_axis_angle
from trajkit.director.tokenizer import BOS, EOS, CameraTokenizer, quaternion_wxyz
from trajkit.formats import load

VECTORS = {  # s, pose 0, pose 1, pose 15, pose 29, Σ bins, per-slot sums
    1: (0.18277, [256, 128, 128, 128, 128, 128, 128, 32, 79, 80], [255, 128, 128, 127, 130, 129, 125, 32, 79, 80],
        [254, 140, 140, 125, 209, 153, 68, 32, 79, 80], [254, 142, 142, 126, 221, 155, 45, 32, 79, 80], 37937,
        [7634, 4110, 4138, 3771, 5827, 4417, 2310, 960, 2370, 2400]),
    2: (0.10221, [256, 128, 128, 128, 128, 128, 128, 20, 35, 64], [256, 127, 128, 127, 128, 127, 127, 20, 35, 64],
        [255, 128, 123, 127, 95, 130, 74, 20, 35, 64], [255, 128, 113, 126, 62, 136, 18, 20, 35, 64], 31643,
        [7652, 3836, 3676, 3807, 2922, 3928, 2252, 600, 1050, 1920]),
    3: (0.28722, [256, 128, 128, 128, 128, 128, 128, 13, 24, 93], [256, 127, 128, 127, 127, 128, 125, 13, 24, 93],
        [255, 127, 128, 127, 122, 132, 68, 13, 24, 93], [255, 128, 128, 127, 121, 136, 0, 13, 24, 93], 32709,
        [7652, 3814, 3840, 3824, 3696, 3950, 2033, 390, 720, 2790]),
}


def case(data_dir: Path, k: int):
    return load(data_dir / "gendop" / "text_rgbd" / f"case{k}_transforms_cleaning.json")


@pytest.mark.parametrize("k", [1, 2, 3])
def test_token_vectors_no_offset(data_dir: Path, k: int) -> None:
    s, p0, p1, p15, p29, total, per_slot = VECTORS[k]
    tok = CameraTokenizer(offset=0)
    bins, scale = tok.bins(case(data_dir, k))
    assert round(scale, 5) == s
    assert bins[0].tolist() == p0 and bins[1].tolist() == p1 and bins[15].tolist() == p15
    assert bins[29].tolist() == p29
    assert bins.sum() == total and bins.sum(axis=0).tolist() == per_slot
    ids = tok.encode(case(data_dir, k))
    assert ids.shape == (300,) and np.array_equal(ids, bins.reshape(-1))
    assert np.array_equal(CameraTokenizer(offset=3).encode(case(data_dir, k)), ids + 3)  # GenDoP HEAD ids


def test_decode_checks_case1(data_dir: Path) -> None:
    tok = CameraTokenizer(offset=0)
    ids = tok.encode(case(data_dir, 1))
    gendop = tok.decode(ids, gendop_scale=True)
    assert gendop.meta["scale"] == pytest.approx(np.exp(-0.75))
    path = tok.decode(np.concatenate([ids, [EOS]]), apply_scale=True)
    assert path.meta["scale"] == pytest.approx(10**-0.75)
    assert path.K[0, 0] == pytest.approx(640) and path.K[1, 1] == pytest.approx(1580)
    q = np.array([0.984375, 0.109375, 0.109375, -0.015625])
    flip = np.diag([1.0, -1, -1, 1])
    gl = flip @ path.c2w[29] @ flip  # back to GenDoP's OpenGL axes
    np.testing.assert_allclose(quaternion_wxyz(gl[:3, :3]), q / np.linalg.norm(q), atol=1e-9)
    np.testing.assert_allclose(gl[:3, 3] / 10**-0.75, [0.7265625, 0.2109375, -0.6484375], atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_round_trip_within_floor_quantisation(data_dir: Path, k: int) -> None:
    cam = case(data_dir, k)
    tok = CameraTokenizer()
    _, scale = tok.bins(cam)
    out = tok.decode(tok.encode(cam), size=cam.size)
    gl_in = cam.relative_to_first().c2w[::4][:30]
    rot_err = np.degrees(np.linalg.norm(matrix_to_axis_angle(
        np.swapaxes(gl_in[:, :3, :3], -1, -2) @ out.c2w[:, :3, :3]), axis=-1))
    assert rot_err.max() < 1.3
    t_err = np.abs(gl_in[:, :3, 3] / scale - out.c2w[:, :3, 3])
    assert t_err.max() <= 1 / 128 + 1e-6  # one bin: the floor returns the lower edge
    assert out.K[0, 0] / cam.size[0] == pytest.approx(cam.K[0, 0] / cam.size[0], abs=1 / 25.6)
    dense = tok.decode(tok.encode(cam), frames=120, fps=30.0)
    assert dense.num_frames == 120 and dense.fps == 30.0
    seq = tok.sequence(cam)
    assert seq[0] == BOS and seq[-1] == EOS and len(seq) == 302


def test_fewer_slots_and_poses(data_dir: Path) -> None:
    tok = CameraTokenizer(poses=8, slots=tuple(range(7)))
    ids = tok.encode(case(data_dir, 1))
    assert ids.shape == (56,) and tok.length == 56
    path = tok.decode(ids)
    assert path.num_frames == 8 and path.K[0, 0] == pytest.approx(36 / 25.6 * 512)  # GenDoP's dummy intrinsics


def test_bad_tokens_and_configs(data_dir: Path) -> None:
    tok = CameraTokenizer()
    with pytest.raises(ValidationError, match="300 coordinate tokens"):
        tok.decode(np.zeros(299, dtype=int) + 100)
    with pytest.raises(ValidationError, match=r"ids 3\.\.259"):
        tok.decode(np.ones(300, dtype=int))
    for bad in (dict(offset=1), dict(poses=1), dict(slots=(3, 2)), dict(slots=(11,))):
        with pytest.raises(ValidationError):
            CameraTokenizer(**bad)
    with pytest.raises(ValidationError, match="at least 30 frames"):
        tok.encode(case(data_dir, 1).resample(20))


def test_poses_relative_to_the_previous_one() -> None:
    from trajkit.author import glide
    from trajkit.director.tagging import tag

    tok = CameraTokenizer(poses=20, slots=tuple(range(7)), relative_to="previous")
    # one steered move: every step is the same motion in the camera's own frame → one repeated token pattern
    move = glide(right=0.6, forward=0.8, pan=60, duration=4, easing="linear").path(fps=30, frames=120)
    rows = tok.encode(move).reshape(20, 7) - 3
    assert rows[0].tolist() == [256, 128, 128, 128, 128, 128, 128]  # pose 0: identity, no step
    assert (rows[1:] == rows[1]).all() and rows[1, 4] > 128 and rows[1, 6] < 128  # right and forward (GL −z)
    back = tok.decode(tok.encode(move), frames=120, fps=30.0)
    assert [s.name for s in tag(back)] == [s.name for s in tag(move)] == ["move right and forward + yaw right"]
    reach = np.linalg.norm(back.c2w[:, :3, 3] - back.c2w[0, :3, 3], axis=1).max()
    assert reach == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="relative_to"):
        CameraTokenizer(relative_to="last")
