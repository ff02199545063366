"""ComfyUI track JSON, Wan-Move .npy and Tora text: reading the shared files, round trips, bad input."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit.formats import comfyui, wanmove


# ---------------------------------------------------------------------------- ComfyUI
def test_comfyui_single_quotes_one_track(tmp_path: Path) -> None:
    f = tmp_path / "kj.txt"
    f.write_text("[{'x': 10, 'y': 20}, {'x': 12.5, 'y': 21}]")
    t = trajkit.load(f)
    assert t.num_tracks == 1 and t.num_frames == 2 and t.size == (832, 480) and t.fps == 16
    np.testing.assert_allclose(t.xy[:, 0], [[10, 20], [12.5, 21]])


def test_comfyui_unequal_lengths_pad_invisible_and_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "tracks.json"
    pts = [[{"x": float(i), "y": 1.0} for i in range(121)], [{"x": 5, "y": 5}] * 40]
    import json

    f.write_text(json.dumps(pts))
    t = trajkit.load(f, size=(640, 360))
    assert t.num_frames == 121 and t.fps == 24  # 121 points = ATI editor timeline
    assert t.visible[:, 1].sum() == 40 and not t.visible[40:, 1].any()
    out = tmp_path / "again.json"
    trajkit.save(t, out, format="comfyui-json")
    assert json.loads(out.read_text()) == pts
    assert trajkit.load(out, size=(640, 360)).allclose(t, atol=0)


@pytest.mark.parametrize(
    "text",
    ["[]", "[{'x': 1}]", '[{"x": "1", "y": 2}]', '[{"x": true, "y": 2}]', "[[{'x': 1, 'y': 2}], 5]",
     '[{"x": 1e999, "y": 2}]', '[{"x": 1, "y": 2}'],
)
def test_comfyui_bad_input(tmp_path: Path, text: str) -> None:
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(trajkit.TrajkitError):
        trajkit.load(f, format="comfyui-json")


def test_comfyui_sniffer() -> None:
    assert comfyui.sniff(Path("a.json"), b'  [[{"x": 1, "y": 2}]]')
    assert comfyui.sniff(Path("a.txt"), b"[{'x': 1, 'y': 2}]")
    assert not comfyui.sniff(Path("a.json"), b'[[1, 2, 3]]')


# ---------------------------------------------------------------------------- Wan-Move
def test_wanmove_example_matches_spec(data_dir: Path) -> None:
    t = trajkit.load(data_dir / "formats" / "wanmove" / "example_tracks.npy",
                     image=data_dir / "formats" / "wanmove" / "example.jpg")
    assert t.size == (832, 480) and t.num_frames == 81 and t.num_tracks == 1 and t.fps == 16
    np.testing.assert_allclose(t.xy[0, 0], [481.00003, 217.50002], atol=1e-4)
    np.testing.assert_allclose(t.xy[1, 0], [479.99423, 217.98390], atol=1e-4)
    np.testing.assert_allclose(t.xy[80, 0], [214.74788, 253.10468], atol=1e-4)
    assert np.linalg.norm(np.diff(t.xy[:, 0], axis=0), axis=-1).sum() == pytest.approx(271.86, abs=0.01)
    assert t.visible.all() and t.meta["visibility_file"] == "example_visibility.npy"


def test_wanmove_round_trip_writes_both_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vis = rng.random((81, 3)) > 0.3
    t = trajkit.Tracks(xy=rng.random((81, 3, 2)) * 800, visible=vis, size=(832, 480), fps=16)
    out = tmp_path / "mine_tracks.npy"
    trajkit.save(t, out)
    assert np.load(tmp_path / "mine_visibility.npy").shape == (1, 81, 3)
    assert np.load(out).shape == (1, 81, 3, 2)
    assert trajkit.load(out).allclose(t, atol=0)


def test_wanmove_refuses_pickled_npy_and_visibility_file(tmp_path: Path, data_dir: Path) -> None:
    obj = tmp_path / "obj_tracks.npy"
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(trajkit.TrajkitError):
        trajkit.load(obj)
    with pytest.raises(trajkit.TrajkitError, match="visibility"):
        trajkit.load(data_dir / "formats" / "wanmove" / "example_visibility.npy")
    assert wanmove.visibility_path(Path("a/x_tracks.npy")) == Path("a/x_visibility.npy")


# ---------------------------------------------------------------------------- Tora
@pytest.mark.parametrize(
    ("name", "points", "first", "last"),
    [("circle", 22, (120, 194), (118, 195)), ("spiral", 24, (100, 127), (173, 204)),
     ("pause", 41, (98, 186), (130, 195))],
)
def test_tora_files(data_dir: Path, tmp_path: Path, name: str, points: int, first: tuple, last: tuple) -> None:
    src = data_dir / "formats" / "tora" / f"{name}.txt"
    t = trajkit.load(src)
    assert t.size == (256, 256) and t.num_tracks == 1 and t.num_frames == points
    assert tuple(t.xy[0, 0]) == first and tuple(t.xy[-1, 0]) == last
    out = tmp_path / f"{name}.txt"
    trajkit.save(t, out)
    assert trajkit.load(out).allclose(t, atol=0)
    # Same numbers as the original (formatting may differ by the ", " separator).
    parse = [tuple(int(v) for v in line.split(",")) for line in src.read_text().splitlines() if line.strip()]
    assert parse == [tuple(int(v) for v in line.split(",")) for line in out.read_text().splitlines()]


def test_tora_rescales_and_needs_one_track(tmp_path: Path) -> None:
    t = trajkit.Tracks(xy=np.array([[[512.0, 256.0], [0, 0]]]), visible=np.ones((1, 2), bool), size=(1024, 512),
                       fps=8)
    with pytest.raises(trajkit.TrajkitError, match="one track"):
        trajkit.save(t, tmp_path / "t.txt")
    trajkit.save(t, tmp_path / "t.txt", track=0)
    assert (tmp_path / "t.txt").read_text() == "128,128\n"


def test_tora_bad_lines(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("1,2\n3;4\n")
    with pytest.raises(trajkit.FormatError, match="line 2"):
        trajkit.load(f, format="tora-txt")


def test_every_header_bit_flip_of_an_npy_is_a_trajkit_error(data_dir: Path, tmp_path: Path) -> None:
    # numpy parses .npy headers with ast.literal_eval: a flipped bit can raise SyntaxError or tokenize.TokenError.
    from trajkit.core.errors import TrajkitError
    from trajkit.formats import load

    src = (data_dir / "formats" / "wanmove" / "example_tracks.npy").read_bytes()
    target = tmp_path / "example_tracks.npy"
    (tmp_path / "example_visibility.npy").write_bytes(
        (data_dir / "formats" / "wanmove" / "example_visibility.npy").read_bytes())
    for pos in range(128):
        for bit in range(8):
            flipped = bytearray(src)
            flipped[pos] ^= 1 << bit
            target.write_bytes(bytes(flipped))
            with contextlib.suppress(TrajkitError):  # anything else escapes and fails the test
                load(target)
