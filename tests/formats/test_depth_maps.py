"""Depth maps for the camera bridge: one finite 2-D array saved with ``np.save``; anything else names the file."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from trajkit.core.errors import FormatError
from trajkit.formats.images import load_depth


def test_gendop_depth_maps_load(data_dir: Path) -> None:
    depth = load_depth(data_dir / "gendop" / "text_rgbd" / "case1_depth.npy")
    assert depth.shape == (208, 512) and depth.dtype == np.float32 and np.isfinite(depth).all()


def test_a_single_channel_map_is_squeezed(tmp_path: Path) -> None:
    np.save(tmp_path / "d.npy", np.ones((4, 6, 1), np.float32))
    assert load_depth(tmp_path / "d.npy").shape == (4, 6)


@pytest.mark.parametrize(("name", "write", "message"), [
    ("d.npz", lambda p: np.savez(p, depth=np.ones((4, 6))), "a .npz archive holds several arrays"),
    ("d.npy", lambda p: np.save(p, np.ones((2, 4, 6))), "not a depth map"),
    ("d.npy", lambda p: np.save(p, np.ones(6)), "not a depth map"),
    ("d.npy", lambda p: np.save(p, np.zeros((0, 6))), "not a depth map"),
    ("d.npy", lambda p: np.save(p, np.array([["a", "b"]])), "not a depth map"),
    ("d.npy", lambda p: np.save(p, np.ones((2, 2), bool)), "not a depth map"),
    ("d.npy", lambda p: np.save(p, np.array([[1.0, np.nan]])), "NaN or infinite"),
    ("d.npy", lambda p: np.save(p, np.array([[1.0, np.inf]])), "NaN or infinite"),
    ("d.npy", lambda p: np.save(p, np.array([[{"a": 1}]], dtype=object)), "not a readable .npy file"),
    ("d.npy", lambda p: p.write_bytes(pickle.dumps(np.ones((2, 2)))), "a Python pickle, not a NumPy array"),
    ("d.npy", lambda p: p.write_bytes(b"\x93NUMPY garbage"), "not a readable .npy file"),
], ids=lambda v: v if isinstance(v, str) and " " in v else "")
def test_anything_but_one_finite_2d_array_is_refused(tmp_path: Path, name: str, write, message: str) -> None:
    path = tmp_path / name
    write(path)
    with pytest.raises(FormatError, match=message) as info:
        load_depth(path)
    assert str(path) in str(info.value)


def test_the_read_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trajkit.formats import _io

    path = tmp_path / "d.npy"
    np.save(path, np.ones((64, 64), np.float32))
    monkeypatch.setattr(_io, "MAX_FILE_BYTES", 1024)  # the size limit, shrunk for the test
    with pytest.raises(FormatError, match="file too large"):
        load_depth(path)
    with pytest.raises(FormatError, match="cannot be read"):
        load_depth(tmp_path / "missing.npy")
