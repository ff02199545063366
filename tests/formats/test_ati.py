"""ATI tracks: the .pth container (safe read, exact write), ATI's normalisation, the examples list."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import trajkit
from trajkit.core import ati_track_input
from trajkit.formats import ati_pth
from trajkit.formats.documents import AtiExamples

NAMES = ["bear", "deco", "fish", "giraffe", "human", "sea"]
IMAGES = {"bear": "bear.jpg", "deco": "deco.png", "fish": "fish.jpg", "giraffe": "giraffe.jpg",
          "human": "human.jpg", "sea": "sea.png"}


@pytest.mark.parametrize("name", NAMES)
def test_normalisation_reproduces_ati_reference(data_dir: Path, name: str) -> None:
    ref = np.load(data_dir / "ati" / "reference" / f"{name}_reference.npz")
    tracks = trajkit.load(data_dir / "ati" / "tracks" / f"{name}.pth", image=data_dir / "ati" / "images" / IMAGES[name])
    assert tracks.size == tuple(int(x) for x in ref["image_wh"])
    assert tracks.num_frames == 121 and tracks.fps == 24
    processed = ati_track_input(tracks)
    assert processed.shape == ref["tracks_processed"].shape
    assert np.abs(processed - ref["tracks_processed"]).max() <= 1e-6


def test_visible_frame_counts_from_the_spec(data_dir: Path) -> None:
    fish = trajkit.load(data_dir / "ati" / "tracks" / "fish.pth", size=(724, 1086))
    assert fish.visible.sum(axis=0).tolist() == [121, 119, 92, 120, 15, 50, 11, 23]
    bear = trajkit.load(data_dir / "ati" / "tracks" / "bear.pth")
    assert bear.size is None  # the canvas is not stored in the file
    assert bear.visible[:, 0].sum() == 96 and bear.visible[:96, 0].all()
    assert bear.xy[:, 1, 1].min() == pytest.approx(-306.9, abs=0.05)  # off-image, negative
    giraffe = trajkit.load(data_dir / "ati" / "tracks" / "giraffe.pth")
    assert np.ptp(giraffe.xy[:, 1], axis=0).max() == 0  # track 1 is static


def test_uint16_file_matches_float_semantics(data_dir: Path) -> None:
    raw = np.load(io.BytesIO(torch.load(data_dir / "ati" / "tracks" / "deco.pth", weights_only=True)))["array"]
    assert raw.dtype == np.uint16
    deco = trajkit.load(data_dir / "ati" / "tracks" / "deco.pth", size=(1080, 1350))
    np.testing.assert_array_equal(deco.xy, np.swapaxes(raw[:, :, 0, :2], 0, 1).astype(np.float32) / 8)
    assert deco.visible.sum(axis=0).tolist() == [105, 93]


@pytest.mark.parametrize("name", NAMES)
def test_written_pth_is_read_by_torch_in_ati_layout(data_dir: Path, tmp_path: Path, name: str) -> None:
    src = data_dir / "ati" / "tracks" / f"{name}.pth"
    tracks = trajkit.load(src, size=(100, 100))
    out = tmp_path / f"{name}.pth"
    trajkit.save(tracks, out)
    payload = torch.load(out, weights_only=True)
    assert isinstance(payload, bytes)
    arr = np.load(io.BytesIO(payload))["array"]
    original = np.load(io.BytesIO(torch.load(src, weights_only=True)))["array"]
    assert arr.shape == original.shape and arr.shape[1:] == (121, 1, 3)
    assert arr.dtype == np.float32
    np.testing.assert_array_equal(arr, original.astype(np.float32))  # ×8 layout, bit-identical values
    with zipfile.ZipFile(out) as zf:
        names = sorted(n.split("/", 1)[1] for n in zf.namelist())
    assert names == [".data/serialization_id", "byteorder", "data.pkl", "version"]
    assert trajkit.load(out, size=(100, 100)).allclose(tracks, atol=0)


def test_time_first_layout_and_uint16_writing(tmp_path: Path) -> None:
    xy = np.array([[[10.5, 20.25]], [[11.0, 21.0]]], dtype=np.float32).repeat(61, axis=0)[:121]
    tracks = trajkit.Tracks(xy=xy, visible=np.ones((121, 1), bool), size=(64, 64), fps=24)
    arr = ati_pth.encode_array(tracks)
    xy2, vis2 = ati_pth.decode_array(np.swapaxes(arr, 0, 1))  # (121, N, 1, 3) time-first
    assert vis2.all()
    np.testing.assert_array_equal(xy2, tracks.xy)
    out = tmp_path / "legacy.pth"
    trajkit.save(tracks, out, dtype="uint16")
    assert np.load(io.BytesIO(torch.load(out, weights_only=True)))["array"].dtype == np.uint16
    assert trajkit.load(out, size=(64, 64)).allclose(tracks, atol=0)
    negative = tracks.replace(xy=tracks.xy - 100)
    with pytest.raises(trajkit.TrajkitError, match="uint16"):
        trajkit.save(negative, tmp_path / "neg.pth", dtype="uint16")


def test_writer_refuses_other_timelines(tmp_path: Path) -> None:
    t = trajkit.Tracks(xy=np.zeros((81, 1, 2)), visible=np.ones((81, 1), bool), size=(8, 8), fps=16)
    with pytest.raises(trajkit.TrajkitError, match="121 frames"):
        trajkit.save(t, tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        import os

        return (os.system, (f"touch {self.marker}",))


def _pth_with_pickle(path: Path, pkl: bytes) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("evil/data.pkl", pkl)
        zf.writestr("evil/byteorder", b"little")
        zf.writestr("evil/version", b"3\n")


def test_hostile_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    _pth_with_pickle(evil, pickle.dumps(_Exploit(marker), protocol=2))
    with pytest.raises(trajkit.FormatError, match="not allowed"):
        trajkit.load(evil, size=(10, 10))
    assert not marker.exists()
    # Also refused when the format is forced and for a pickle of a non-bytes object.
    other = tmp_path / "other.pth"
    _pth_with_pickle(other, pickle.dumps({"array": [1, 2]}, protocol=2))
    with pytest.raises(trajkit.FormatError):
        trajkit.load(other, format="ati-pth")


def test_examples_yaml(data_dir: Path) -> None:
    ex = trajkit.load(data_dir / "ati" / "test.yaml")
    assert isinstance(ex, AtiExamples) and len(ex) == 6
    assert [i.image.name for i in ex.items] == ["fish.jpg", "human.jpg", "sea.png", "deco.png", "giraffe.jpg",
                                               "bear.jpg"]
    assert ex.items[0].text.endswith("gliding beneath.") and "\u2011" in ex.items[0].text
    assert ex.items[1].text == "An human facing the camera in an cyberbank style dress."
    assert ex.items[4].text == ex.items[4].text.strip()
    assert ex.items[5].tracks.size == (3984, 2656) and ex.items[5].tracks.num_tracks == 4


@pytest.mark.parametrize("name", NAMES)
def test_wan_video_size_rule_matches_reference_latents(data_dir: Path, name: str) -> None:
    from trajkit.core import ati_video_size

    ref = np.load(data_dir / "ati" / "reference" / f"{name}_reference.npz")
    w, h = ati_video_size(tuple(int(v) for v in ref["image_wh"]))
    assert (h // 8, w // 8) == tuple(int(v) for v in ref["latent_hw"])
