"""Every shared file loads into the right type through ``trajkit.load``'s sniffing; cross-format checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit import CameraPath, EntityPaths, Tracks
from trajkit.formats import documents as docs
from trajkit.formats.registry import detect, format_for_save, get_format

# path under ../shared/data → (format name, expected type)
EXPECTED: dict[str, tuple[str, type]] = {
    **{f"ati/tracks/{n}.pth": ("ati-pth", Tracks) for n in ("bear", "deco", "fish", "giraffe", "human", "sea")},
    "ati/test.yaml": ("ati-examples", docs.AtiExamples),
    **{f"gendop/text_rgbd/case{i}_transforms_cleaning.json": ("gendop-json", CameraPath) for i in (1, 2, 3)},
    **{f"gendop/text_rgbd/case{i}_caption.json": ("gendop-caption", docs.CameraCaption) for i in (1, 2, 3)},
    **{f"gendop/vis/{n}.json": ("gendop-json", CameraPath) for n in ("case1", "case2", "et1")},
    "formats/motionctrl/test_camera_018f7907401f2fef.json": ("motionctrl-json", CameraPath),
    "formats/motionctrl/test_camera_088b93f15ca8745d.json": ("motionctrl-json", CameraPath),
    "formats/recammaster/camera_extrinsics.json": ("recammaster-json", docs.CameraSet),
    **{f"formats/re10k/{n}.txt": ("re10k-txt", CameraPath)
       for n in ("0bf152ef84195293", "0c11dbe781b1c11c", "0c9b371cc6225682")},
    "formats/wanmove/example_tracks.npy": ("wanmove-npy", Tracks),
    **{f"formats/tora/{n}.txt": ("tora-txt", Tracks) for n in ("circle", "spiral", "pause")},
    "trajmaster/D_loc1_61_t3n13_003d_Hemi12_1.json": ("trajmaster-json", EntityPaths),
    "trajmaster/Hemi12_transforms.json": ("trajmaster-rig", docs.CameraSet),
    "trajmaster/location_data_desert.json": ("trajmaster-locations", docs.LocationData),
    "trajmaster/test_sets.json": ("trajmaster-testsets", docs.TrajMasterTestSets),
    "trajmaster/entity_zoo.txt": ("prompt-list", docs.PromptList),
    "trajmaster/location_zoo.txt": ("prompt-list", docs.PromptList),
}


def test_the_table_covers_every_control_file(data_dir: Path) -> None:
    wanted = {p for p in data_dir.glob("ati/tracks/*")} | set(data_dir.glob("formats/**/*.*")) \
        | set(data_dir.glob("gendop/**/*.json")) | set(data_dir.glob("trajmaster/*"))
    wanted = {p.relative_to(data_dir).as_posix() for p in wanted if p.is_file()}
    not_controls = {"formats/wanmove/example.jpg", "formats/wanmove/example_visibility.npy"}
    assert wanted - not_controls == set(EXPECTED) - {"ati/test.yaml"}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_loads_into_the_right_type(data_dir: Path, rel: str) -> None:
    name, kind = EXPECTED[rel]
    path = data_dir / rel
    assert detect(path).name == name
    obj = trajkit.load(path)
    assert isinstance(obj, kind)


def test_recammaster_unreal_round_trip_is_unchanged(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "formats" / "recammaster" / "camera_extrinsics.json"
    cams = trajkit.load(src)
    out = tmp_path / "camera_extrinsics.json"
    trajkit.save(cams, out, format="recammaster-json")
    again = trajkit.load(out)
    assert again.names == cams.names
    for name in cams.names:
        assert again.get(name).allclose(cams.get(name), atol=1e-9)


@pytest.mark.parametrize("case", [1, 2, 3])
def test_gendop_relative_to_first_is_identity_in_opencv(data_dir: Path, case: int) -> None:
    cam = trajkit.load(data_dir / "gendop" / "text_rgbd" / f"case{case}_transforms_cleaning.json")
    rel = cam.relative_to_first()
    np.testing.assert_allclose(rel.c2w[0], np.eye(4), atol=1e-6)
    # GenDoP's first matrix is close to diag(1, −1, −1) in OpenGL axes, i.e. close to I in OpenCV axes.
    assert np.abs(cam.c2w[0, :3, :3] - np.eye(3)).max() < 0.2


def test_trajmaster_camera_space_translation_of_entity_0(data_dir: Path) -> None:
    ents = trajkit.load(data_dir / "trajmaster" / "D_loc1_61_t3n13_003d_Hemi12_1.json")
    t = ents.in_camera()[0, 10, :3, 3]  # rig camera 12, frame 10 (the spec's first latent frame)
    # trajmaster.md §13 gives (1.961000, 2.211707, 7.831749) in (right, up, forward); OpenCV flips y.
    np.testing.assert_allclose(t, [1.961000, -2.211707, 7.831749], atol=1e-5)


def test_save_picks_writer_from_extension(tmp_path: Path) -> None:
    tracks = trajkit.Tracks(xy=np.zeros((121, 1, 2)), visible=np.ones((121, 1), bool), size=(8, 8), fps=24)
    assert format_for_save(tracks, tmp_path / "a.json").name == "trajkit-json"
    assert format_for_save(tracks, tmp_path / "a.npz").name == "trajkit-npz"
    assert format_for_save(tracks, tmp_path / "a.pth").name == "ati-pth"
    assert format_for_save(tracks, tmp_path / "a_tracks.npy").name == "wanmove-npy"
    assert format_for_save(tracks, tmp_path / "a.txt").name == "tora-txt"
    with pytest.raises(trajkit.TrajkitError, match="no writer"):
        format_for_save(tracks, tmp_path / "a.mp4")
    with pytest.raises(trajkit.TrajkitError, match="cannot hold"):
        format_for_save(tracks, tmp_path / "a.txt", format="re10k-txt")
    with pytest.raises(trajkit.TrajkitError, match="unknown format"):
        get_format("nope")


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(trajkit.TrajkitError, match="no such file"):
        trajkit.load(tmp_path / "missing.json")
    (tmp_path / "x.bin").write_bytes(b"\x00\x01garbage")
    with pytest.raises(trajkit.TrajkitError, match="no known format"):
        trajkit.load(tmp_path / "x.bin")
    with pytest.raises(trajkit.TrajkitError, match="not a regular file"):
        trajkit.load(tmp_path)
