"""3DTrajMaster 360°-Motion formats: expected numbers come from specs/trajmaster.md §2 and §13."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit.core.conventions import opencv_to_trajmaster_camera
from trajkit.formats import trajmaster as tm
from trajkit.formats.documents import CameraSet, LocationData, PromptList, TrajMasterTestSets
from trajkit.formats.unreal import parse_fmatrix

VIDEO = "D_loc1_61_t3n13_003d_Hemi12_1"
SIBLINGS = ("Hemi12_transforms.json", "location_data_desert.json")

# Unreal (X, Y, Z) -> trajkit (Y, -Z, X), written out here rather than taken from the library.
P_UE = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])

# §13 reference vectors [R00,R10,R20, R01,R11,R21, R02,R12,R22, tx,ty,tz], camera 12, s = 10.
REF = {
    "e0_first": [0.005314, 0.093339, 0.995620, -0.0, 0.995634, -0.093341, -0.999986, 0.000496, 0.005291,
                 1.961000, 2.211707, 7.831749],
    "e0_last": [0.005314, 0.093339, 0.995620, -0.0, 0.995634, -0.093341, -0.999986, 0.000496, 0.005291,
                -1.215000, 2.213294, 7.848675],
    "e1_first": [0.206134, -0.091336, -0.974252, -0.0, 0.995634, -0.093341, 0.978524, 0.019241, 0.205234,
                 -1.297000, 2.379253, 9.618913],
    "e1_last": [-0.138169, 0.092445, 0.986085, -0.0, 0.995634, -0.093341, -0.990409, -0.012897, -0.137566,
                -0.173000, 2.021478, 5.802647],
    "e2_first": [-0.597642, 0.074837, 0.798263, -0.0, 0.995634, -0.093341, -0.801763, -0.055784, -0.595033,
                 0.553000, 2.137221, 7.037233],
    "e2_last": [0.021440, -0.093319, -0.995405, -0.0, 0.995634, -0.093341, 0.999770, 0.002001, 0.021346,
                0.408000, 2.333236, 9.128065],
    "e0_first_cam1": [-0.495391, 0.081082, 0.864878, 0.0, 0.995634, -0.093341, -0.868670, -0.046240,
                      -0.493228, 1.696276, 2.303177, 8.807435],
    "e0_first_reversed": [0.005314, 0.093339, 0.995620, -0.0, 0.995634, -0.093341, -0.999986, 0.000496,
                          0.005291, -1.332000, 2.213387, 7.849671],
}
LATENT = [10, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91]
LATENT_REVERSED = [94, 89, 82, 75, 68, 61, 54, 47, 40, 33, 26, 19, 12]
VIDEO_FRAMES = [10, 11, 13, 15, 17, 18, 20, 22, 24, 25, 27, 29, 31, 32, 34, 36, 38, 39, 41, 43, 45, 46, 48, 50,
                52, 53, 55, 57, 59, 60, 62, 64, 66, 67, 69, 71, 73, 74, 76, 78, 80, 81, 83, 85, 87, 88, 90, 92, 94]


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tdir(data_dir: Path) -> Path:
    return data_dir / "trajmaster"


@pytest.fixture(scope="module")
def example(tdir: Path) -> trajkit.EntityPaths:
    return trajkit.load(tdir / f"{VIDEO}.json")


@pytest.fixture(scope="module")
def rig(tdir: Path) -> CameraSet:
    return tm.read_rig(tdir / "Hemi12_transforms.json")


def vectors(obj2cam_trajmaster: np.ndarray) -> np.ndarray:
    """The 12-vector of §2.6: the top 3×4 flattened column-major."""
    top = obj2cam_trajmaster[..., :3, :4]
    return np.swapaxes(top, -1, -2).reshape(top.shape[:-2] + (12,))


def pose_tensor(entities: trajkit.EntityPaths, frames: np.ndarray, camera=None) -> np.ndarray:
    return vectors(opencv_to_trajmaster_camera(entities.in_camera(camera))[:, frames])


def canonical_to_trajkit(right, up, forward, t) -> np.ndarray:
    """3DTrajMaster canonical pose (rows UE X,Y,Z; columns right, up, forward) -> trajkit object-to-world."""
    pose = np.eye(4)
    pose[:3, :3] = P_UE @ np.column_stack([right, -np.asarray(up), forward])  # object axes: right, down, fwd
    pose[:3, 3] = P_UE @ np.asarray(t)
    return pose


def staged(tmp_path: Path, tdir: Path, name: str = f"{VIDEO}.json", content: str | None = None,
           siblings: tuple[str, ...] = SIBLINGS, depth: int = 0) -> Path:
    """A trajectory file in a fresh folder ``depth`` levels below tmp_path, with copied sibling files."""
    folder = tmp_path
    for i in range(depth):
        folder = folder / f"d{i}"
    folder.mkdir(parents=True, exist_ok=True)
    for s in siblings:
        shutil.copy(tdir / s, folder / s)
    target = folder / name
    if content is None:
        shutil.copy(tdir / f"{VIDEO}.json", target)
    else:
        target.write_text(content, encoding="utf-8")
    return target


def example_json(tdir: Path) -> dict:
    return json.loads((tdir / f"{VIDEO}.json").read_text())


# ---------------------------------------------------------------------------------------------- loading
def test_example_loads_with_rig_camera_12(example: trajkit.EntityPaths, rig: CameraSet) -> None:
    assert isinstance(example, trajkit.EntityPaths)
    assert example.num_entities == 3 and example.num_frames == 99
    assert example.fps == 30
    assert example.camera is not None and example.camera.num_frames == 1
    assert example.camera.metric
    assert example.meta["camera_name"] == "C_12_35mm"
    np.testing.assert_allclose(example.camera.c2w, rig.get(12).c2w, atol=0)
    assert example.meta["indices"] == [113, 141, 2]
    assert example.meta["location"] == "loc1"
    np.testing.assert_allclose(example.meta["offset_cm"], [19000.0, -22700.0, 0.0])
    assert example.prompts == ("entity 113", "entity 141", "entity 2")


def test_module_reader_matches_load(tdir: Path, example: trajkit.EntityPaths) -> None:
    direct = tm.FORMAT_TRAJECTORY.read(tdir / f"{VIDEO}.json")
    assert direct.allclose(example, atol=0)
    assert trajkit.formats.detect(tdir / f"{VIDEO}.json").name == "trajmaster-json"


def test_canonical_intermediate_value(example: trajkit.EntityPaths) -> None:
    # §13: entity 0, frame 10 in 3DTrajMaster's canonical world.
    expected = canonical_to_trajkit(right=[-0.999986, -0.005314, 0.0], up=[0.0, 0.0, 1.0],
                                    forward=[-0.005314, 0.999986, 0.0], t=[-0.004, -1.961, 1.47103])
    np.testing.assert_allclose(example.poses[0, 10], expected, atol=1e-5)
    # entities float 1.47103 m above the target plane: trajkit y points down
    np.testing.assert_allclose(example.positions[..., 1], -1.47103, atol=1e-9)


# ---------------------------------------------------------------------------------------------- §13 tensor
def test_latent_frame_indices() -> None:
    assert tm.latent_frame_indices().tolist() == LATENT
    assert tm.latent_frame_indices(reverse=True).tolist() == LATENT_REVERSED
    assert tm.video_frame_indices().tolist() == VIDEO_FRAMES
    for s in (11, 12, 13):
        assert tm.latent_frame_indices(start=s).tolist() == [i + s - 10 for i in LATENT]
    with pytest.raises(trajkit.TrajkitError):
        tm.latent_frame_indices(num_frames=48)


def test_reference_vectors_camera_12(example: trajkit.EntityPaths) -> None:
    v = pose_tensor(example, tm.latent_frame_indices())
    assert v.shape == (3, 13, 12)
    for e in range(3):
        np.testing.assert_allclose(v[e, 0], REF[f"e{e}_first"], atol=1e-5, err_msg=f"entity {e} first")
        np.testing.assert_allclose(v[e, -1], REF[f"e{e}_last"], atol=1e-5, err_msg=f"entity {e} last")


def test_reference_vector_camera_1(example: trajkit.EntityPaths, rig: CameraSet) -> None:
    v = pose_tensor(example, tm.latent_frame_indices(), camera=rig.get(1))
    np.testing.assert_allclose(v[0, 0], REF["e0_first_cam1"], atol=1e-5)


def test_reference_vector_reversed(example: trajkit.EntityPaths) -> None:
    frames = tm.latent_frame_indices(reverse=True)
    assert frames[0] == 94
    v = pose_tensor(example, frames)
    np.testing.assert_allclose(v[0, 0], REF["e0_first_reversed"], atol=1e-5)


def test_reference_checksums_and_invariants(example: trajkit.EntityPaths) -> None:
    v = pose_tensor(example, tm.latent_frame_indices())
    assert v.sum() == pytest.approx(436.083154, abs=1e-4)
    assert np.abs(v).sum() == pytest.approx(570.543730, abs=1e-4)
    np.testing.assert_allclose(v[..., 3:6], np.broadcast_to([0.0, 0.995634, -0.093341], (3, 13, 3)), atol=1e-5)
    R = np.swapaxes(v[..., :9].reshape(3, 13, 3, 3), -1, -2)
    np.testing.assert_allclose(np.swapaxes(R, -1, -2) @ R, np.broadcast_to(np.eye(3), R.shape), atol=1e-6)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-6)
    t = v[..., 9:]
    for axis, (lo, hi) in enumerate([(-1.507, 1.980), (2.021, 2.391), (5.803, 9.741)]):
        assert t[..., axis].min() == pytest.approx(lo, abs=1e-3)
        assert t[..., axis].max() == pytest.approx(hi, abs=1e-3)


def test_opencv_camera_space_cross_check(example: trajkit.EntityPaths) -> None:
    t = example.in_camera()[0, 10, :3, 3]
    np.testing.assert_allclose(t, [1.961000, -2.211707, 7.831749], atol=1e-5)


# ---------------------------------------------------------------------------------------------- rig
def test_camera_12_in_trajkit_world(rig: CameraSet) -> None:
    c2w = rig.get(12).c2w[0]
    # §2.3 canonical camera 12: right (0,-1,0), up (-0.093341,0,0.995634), fwd (-0.995634,0,-0.093341), t (8,0,0)
    expected = canonical_to_trajkit(right=[0.0, -1.0, 0.0], up=[-0.093341, 0.0, 0.995634],
                                    forward=[-0.995634, 0.0, -0.093341], t=[8.0, 0.0, 0.0])
    np.testing.assert_allclose(c2w, expected, atol=1e-6)
    centre, axis = c2w[:3, 3], c2w[:3, 2]
    np.testing.assert_allclose(centre, [0.0, 0.0, 8.0], atol=1e-9)
    horizontal = axis[[0, 2]] / np.linalg.norm(axis[[0, 2]])
    to_target = -centre[[0, 2]] / np.linalg.norm(centre[[0, 2]])
    np.testing.assert_allclose(horizontal, to_target, atol=1e-9)
    assert np.degrees(np.arcsin(axis[1])) == pytest.approx(5.356, abs=1e-3)  # +y is down: pitched down


def test_rig_layout_and_intrinsics(rig: CameraSet) -> None:
    assert rig.names == [f"C_{k:02d}_35mm" for k in range(1, 13)]
    for k in range(1, 13):
        cam = rig.get(k)
        assert cam.metric and cam.fps == 30 and cam.size == (720, 480)
        a = np.radians(30 * k)
        np.testing.assert_allclose(cam.centers[0], P_UE @ (8.0 * np.array([np.cos(a), np.sin(a), 0.0])),
                                   atol=1e-9)
        assert np.linalg.norm(cam.centers[0]) == pytest.approx(8.0, abs=1e-9)
        np.testing.assert_allclose(cam.K, [[1060.606, 0, 360], [0, 1060.606, 240], [0, 0, 1]], atol=1e-3)
    np.testing.assert_allclose(tm.rig_intrinsics((672, 384)),
                               [[989.899, 0, 336], [0, 989.899, 192], [0, 0, 1]], atol=1e-3)


def test_rig_hints(tdir: Path) -> None:
    path = tdir / "Hemi12_transforms.json"
    assert isinstance(trajkit.load(path), CameraSet)
    cam = trajkit.load(path, camera=3, size=(672, 384))
    assert isinstance(cam, trajkit.CameraPath) and cam.meta["name"] == "C_03_35mm"
    assert cam.K[0, 0] == pytest.approx(989.899, abs=1e-3)
    assert trajkit.load(path, camera="C_03_35mm").allclose(trajkit.load(path, camera=3))
    with pytest.raises(trajkit.TrajkitError):
        trajkit.load(path, camera=13)


def test_rig_round_trip(tmp_path: Path, rig: CameraSet) -> None:
    out = trajkit.save(rig, tmp_path / "Hemi12_transforms.json", format="trajmaster-rig")
    again = tm.read_rig(out)
    assert again.names == rig.names
    for name in rig.names:
        assert again.cameras[name].allclose(rig.cameras[name], atol=1e-12)


# ---------------------------------------------------------------------------------------------- trajectory hints
def test_trajectory_camera_hints_and_size(tdir: Path) -> None:
    path = tdir / f"{VIDEO}.json"
    assert trajkit.load(path, camera=0).camera is None
    assert trajkit.load(path, camera="none").camera is None
    assert trajkit.load(path, camera=1).meta["camera_name"] == "C_01_35mm"
    assert trajkit.load(path, camera="C_05_35mm").meta["camera_name"] == "C_05_35mm"
    small = trajkit.load(path, size=(672, 384))
    assert small.camera.size == (672, 384)
    assert small.camera.K[0, 0] == pytest.approx(989.899, abs=1e-3)
    with pytest.raises(trajkit.TrajkitError):
        trajkit.load(path, camera=13)


def test_no_rig_means_no_camera(tmp_path: Path, tdir: Path) -> None:
    path = staged(tmp_path, tdir, siblings=("location_data_desert.json",), depth=4)
    assert trajkit.load(path).camera is None


def test_explicit_paths_and_offset(tmp_path: Path, tdir: Path, example: trajkit.EntityPaths) -> None:
    path = staged(tmp_path, tdir, name="renamed.json", siblings=(), depth=4)
    by_paths = trajkit.load(path, location_data=tdir / "location_data_desert.json", location="loc1",
                            rig=tdir / "Hemi12_transforms.json")
    assert by_paths.allclose(example, atol=0)
    by_offset = trajkit.load(path, offset_cm=(19000, -22700, 0), camera=0)
    np.testing.assert_allclose(by_offset.poses, example.poses, atol=0)
    with pytest.raises(trajkit.TrajkitError, match="loc9"):
        trajkit.load(path, location_data=tdir / "location_data_desert.json", location="loc9")


def test_character_info_and_prompt_hints(tmp_path: Path, tdir: Path) -> None:
    path = staged(tmp_path, tdir)
    info = {"CharacterInfo": [{"index": 113, "eng": " a red fox."}, {"index": "141", "eng": "a brown bear"},
                              {"index": 7, "eng": "unused"}]}
    (tmp_path / "CharacterInfo.json").write_text(json.dumps(info))
    chars = trajkit.load(tmp_path / "CharacterInfo.json")
    assert isinstance(chars, tm.CharacterInfo)
    assert chars[141] == "a brown bear" and len(chars) == 3
    e = trajkit.load(path)
    assert e.prompts == ("a red fox.", "a brown bear", "entity 2")
    e = trajkit.load(path, prompts=["fox", "bear", "cat"])
    assert e.prompts == ("fox", "bear", "cat")
    with pytest.raises(trajkit.TrajkitError):
        trajkit.load(path, prompts=["fox"])


# ---------------------------------------------------------------------------------------------- round trips
def test_trajectory_round_trip(tmp_path: Path, tdir: Path, example: trajkit.EntityPaths) -> None:
    for s in SIBLINGS:
        shutil.copy(tdir / s, tmp_path / s)
    out = trajkit.save(example, tmp_path / f"{VIDEO}.json", format="trajmaster-json")
    again = trajkit.load(out)
    assert again.allclose(example, atol=1e-6)
    assert again.meta["indices"] == [113, 141, 2]
    original, written = example_json(tdir), json.loads(out.read_text())
    assert list(written) == [str(t) for t in range(99)]
    for key, frame in original.items():
        for a, b in zip(frame, written[key], strict=True):
            assert a["index"] == b["index"]
            np.testing.assert_allclose(parse_fmatrix(b["matrix"], None, "t", "m"),
                                       parse_fmatrix(a["matrix"], None, "t", "m"), atol=1e-4)


def test_single_entity_round_trip_with_offset_hint(tmp_path: Path, example: trajkit.EntityPaths) -> None:
    one = example.select([1]).with_camera(None)
    out = tmp_path / "one.json"
    tm.write_trajectory(one, out, offset_cm=(5.0, -7.0, 1.0), indices=[4])
    again = trajkit.load(out, offset_cm=(5.0, -7.0, 1.0), prompts=list(one.prompts))
    assert again.num_entities == 1 and again.meta["indices"] == [4]
    np.testing.assert_allclose(again.poses, one.poses, atol=1e-6)


def test_writer_refuses_other_fps(tmp_path: Path, example: trajkit.EntityPaths) -> None:
    with pytest.raises(trajkit.TrajkitError, match="30 fps"):
        tm.write_trajectory(example.replace(fps=8.0), tmp_path / "x.json")


# ---------------------------------------------------------------------------------------------- documents
def test_location_data(tdir: Path) -> None:
    loc = trajkit.load(tdir / "location_data_desert.json")
    assert isinstance(loc, LocationData)
    expected = {"loc1": (19000, -22700, 0), "loc2": (-200, -11500, 130), "loc3": (-22500, -12900, 20),
                "loc4": (-22000, 6600, 40), "loc5": (1300, 28000, 20)}
    assert sorted(loc.targets) == sorted(expected)
    for key, target in expected.items():
        np.testing.assert_allclose(loc.targets[key], target)
        assert loc.heights[key] == "H10"


def test_test_sets_and_zoos(tdir: Path) -> None:
    sets = trajkit.load(tdir / "test_sets.json")
    assert isinstance(sets, TrajMasterTestSets) and len(sets) == 30
    assert [c.key for c in sets.cases] == [str(i) for i in range(30)]
    assert Counter(len(c.entity_prompts) for c in sets.cases) == {1: 10, 2: 10, 3: 10}
    locs = Counter(c.video_name.split("_")[1] for c in sets.cases)
    assert locs == {"loc1": 11, "loc2": 5, "loc3": 3, "loc4": 2, "loc5": 9}
    assert all(c.video_name.startswith("D_") for c in sets.cases)
    entity_zoo = trajkit.load(tdir / "entity_zoo.txt")
    location_zoo = trajkit.load(tdir / "location_zoo.txt")
    assert isinstance(entity_zoo, PromptList) and isinstance(location_zoo, PromptList)
    assert len(entity_zoo) == 85 and len(set(entity_zoo.items)) == 85
    assert len(location_zoo) == 32
    for case in sets.cases:
        assert set(case.entity_prompts) <= set(entity_zoo.items)
        assert case.loc_prompt in location_zoo.items


def test_sniffers_do_not_misfire(data_dir: Path, tdir: Path) -> None:
    expected = {
        f"{VIDEO}.json": tm.FORMAT_TRAJECTORY, "Hemi12_transforms.json": tm.FORMAT_RIG,
        "location_data_desert.json": tm.FORMAT_LOCATIONS, "test_sets.json": tm.FORMAT_TESTSETS,
        "entity_zoo.txt": tm.FORMAT_PROMPTS, "location_zoo.txt": tm.FORMAT_PROMPTS,
    }
    ours = [tm.FORMAT_TRAJECTORY, tm.FORMAT_RIG, tm.FORMAT_LOCATIONS, tm.FORMAT_TESTSETS,
            tm.FORMAT_CHARACTERS, tm.FORMAT_PROMPTS]
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        head = path.read_bytes()[:64 * 1024]
        hits = [f.name for f in ours if f.sniff(path, head)]
        want = [expected[path.name].name] if path.parent == tdir else []
        assert hits == want, path


# ---------------------------------------------------------------------------------------------- bad input
def test_missing_location_data_is_explained(tmp_path: Path, tdir: Path) -> None:
    path = staged(tmp_path, tdir, siblings=("Hemi12_transforms.json",), depth=4)
    with pytest.raises(trajkit.TrajkitError, match="location_data") as info:
        trajkit.load(path)
    assert "offset_cm" in str(info.value)


@pytest.mark.parametrize("text", ["__import__('os').system('touch {marker}')",
                                  "[__import__('os').system('touch {marker}')]",
                                  "['ok', (lambda: __import__('os').system('touch {marker}'))()]"])
def test_prompt_list_never_executes(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "zoo.txt"
    path.write_text(text.format(marker=marker))
    with pytest.raises(trajkit.TrajkitError):
        trajkit.load(path, format="prompt-list")
    with pytest.raises(trajkit.TrajkitError):
        tm.read_prompt_list(path)
    assert not marker.exists()


def test_prompt_list_rejects_non_strings(tmp_path: Path) -> None:
    path = tmp_path / "zoo.txt"
    path.write_text("['a', 1]")
    with pytest.raises(trajkit.TrajkitError, match="strings"):
        tm.read_prompt_list(path)


def _mutations() -> dict[str, object]:
    def missing_matrix(d: dict) -> None:
        del d["5"][1]["matrix"]

    def entity_count(d: dict) -> None:
        d["7"] = d["7"][:2]

    def gap(d: dict) -> None:
        del d["40"]

    def overflow(d: dict) -> None:
        d["3"][0]["matrix"] = d["3"][0]["matrix"].replace("147.103", "1e999", 1)

    def not_rotation(d: dict) -> None:
        d["9"][2]["matrix"] = "[2 0 0 0] [0 1 0 0] [0 0 1 0] [19000 -22700 147.103 1] "

    def reordered(d: dict) -> None:
        d["11"] = d["11"][::-1]

    return {"matrix": missing_matrix, "entity count": entity_count, "missing frame 40": gap,
            "not finite": overflow, "not a rotation": not_rotation, "order": reordered}


@pytest.mark.parametrize("problem", list(_mutations()))
def test_malformed_trajectories(tmp_path: Path, tdir: Path, problem: str) -> None:
    data = example_json(tdir)
    _mutations()[problem](data)
    path = staged(tmp_path, tdir, content=json.dumps(data))
    with pytest.raises(trajkit.TrajkitError, match=problem):
        trajkit.load(path)
    with pytest.raises(trajkit.TrajkitError):
        tm.read_trajectory(path)


def test_non_json_nan_literal_rejected(tmp_path: Path, tdir: Path) -> None:
    text = (tdir / f"{VIDEO}.json").read_text().replace('"index":113', '"index":NaN', 1)
    path = staged(tmp_path, tdir, content=text)
    with pytest.raises(trajkit.TrajkitError):
        trajkit.load(path)
