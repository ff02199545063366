"""Camera formats: GenDoP / nerfstudio transforms JSON, RealEstate10K text, MotionCtrl and ReCamMaster JSON.

Expected numbers come from ../shared/specs (ecosystem.md §4 and §11, gendop.md §1 and §10) or from the raw
files parsed here independently of the readers; none is taken from the readers' own output.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit import CameraPath
from trajkit.core.conventions import opencv_to_unreal, unreal_to_opencv
from trajkit.core.errors import FormatError, TrajkitError
from trajkit.formats import motionctrl, re10k, recammaster, transforms_json
from trajkit.formats.documents import CameraSet
from trajkit.formats.registry import HEAD_BYTES, detect, get_format
from trajkit.formats.unreal import parse_fmatrix

GL_FLIP = np.diag([1.0, -1.0, -1.0, 1.0])


# ---------------------------------------------------------------------------------------- helpers
def angle_deg(R: np.ndarray) -> float:
    """Rotation angle of a 3x3 rotation, from its trace (independent of trajkit.core.rotations)."""
    return math.degrees(math.acos(np.clip((np.trace(R) - 1) / 2, -1.0, 1.0)))


def axis_of(R: np.ndarray) -> np.ndarray:
    """Unit rotation axis of a rotation that is not near 0 or 180 degrees."""
    v = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    return v / np.linalg.norm(v)


def raw_json(path: Path):
    return json.loads(path.read_text())


def head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def gendop_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "gendop" / "text_rgbd").glob("*_transforms_cleaning.json")) + sorted(
        (data_dir / "gendop" / "vis").glob("*.json"))


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def turn(axis: str, deg: float) -> np.ndarray:
    """A 3x3 rotation about a coordinate axis."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    R = np.eye(3)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


def pose(R: np.ndarray, t) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = R, t
    return m


def moving_path(frames: int = 5, fps: float = 12.0, K=None) -> CameraPath:
    c2w = np.stack([pose(turn("y", 4 * i) @ turn("x", 2 * i), [0.1 * i, -0.05 * i, 0.3 * i + 1])
                    for i in range(frames)])
    K = np.array([[300.0, 0, 160], [0, 310.0, 120], [0, 0, 1]]) if K is None else K
    return CameraPath(c2w=c2w, K=K, size=(320, 240), fps=fps)


# ---------------------------------------------------------------------------------------- sniffing
SNIFF_CASES = {
    "gendop-json": [*(f"gendop/text_rgbd/case{i}_transforms_cleaning.json" for i in (1, 2, 3)),
                    "gendop/vis/case1.json", "gendop/vis/case2.json", "gendop/vis/et1.json"],
    "nerfstudio-json": [],
    "re10k-txt": ["formats/re10k/0bf152ef84195293.txt", "formats/re10k/0c11dbe781b1c11c.txt",
                  "formats/re10k/0c9b371cc6225682.txt"],
    "motionctrl-json": ["formats/motionctrl/test_camera_018f7907401f2fef.json",
                        "formats/motionctrl/test_camera_088b93f15ca8745d.json"],
    "recammaster-json": ["formats/recammaster/camera_extrinsics.json"],
}


@pytest.mark.parametrize("name", sorted(SNIFF_CASES))
def test_sniffer_accepts_its_files_and_rejects_all_others(data_dir: Path, name: str) -> None:
    sniff = get_format(name).sniff
    mine = {data_dir / p for p in SNIFF_CASES[name]}
    for p in mine:
        assert p.is_file(), p
    for p in sorted(data_dir.rglob("*")):
        if p.is_file():
            assert sniff(p, head(p)) == (p in mine), p


@pytest.mark.parametrize("name", sorted(SNIFF_CASES))
def test_sniffer_never_raises(tmp_path: Path, name: str) -> None:
    sniff = get_format(name).sniff
    for ext in (".json", ".txt"):
        for junk in (b"", b"\xff\xfe\x00garbage", b"[[[[[[", b'{"frames": [', b"http", b"{" * 5000,
                     b"\x00" * 64):
            assert sniff(tmp_path / f"x{ext}", junk) is False


@pytest.mark.parametrize("rel, name", [(p, n) for n, ps in SNIFF_CASES.items() for p in ps])
def test_detect_picks_the_format(data_dir: Path, rel: str, name: str) -> None:
    assert detect(data_dir / rel).name == name


# ---------------------------------------------------------------------------------------- gendop-json
def test_gendop_files_load(data_dir: Path) -> None:
    files = gendop_files(data_dir)
    assert len(files) == 6
    for p in files:
        raw = raw_json(p)
        cam = trajkit.load(p)
        assert isinstance(cam, CameraPath), p
        assert cam.num_frames == 120
        assert cam.size == (int(raw["w"]), int(raw["h"]))
        K = [[raw["fl_x"], 0, raw["cx"]], [0, raw["fl_y"], raw["cy"]], [0, 0, 1]]
        np.testing.assert_array_equal(cam.K, K)
        assert cam.fps == 30.0 and cam.metric is False
        np.testing.assert_allclose(cam.relative_to_first().c2w[0], np.eye(4), atol=1e-6)


def test_gendop_case1_numbers_and_axes(data_dir: Path) -> None:
    p = data_dir / "gendop/text_rgbd/case1_transforms_cleaning.json"
    cam = transforms_json.read_gendop(p)
    assert cam.size == (512, 208)
    assert cam.K[0, 0] == pytest.approx(642.345337) and cam.K[1, 1] == pytest.approx(642.345337)
    assert (cam.K[0, 2], cam.K[1, 2]) == (256.0, 104.0)
    gl0 = np.array(raw_json(p)["frames"][0]["transform_matrix"])
    # OpenCV axes: the y and z rotation columns are the negated OpenGL ones; the centre is unchanged.
    expected = gl0.copy()
    expected[:3, 1:3] *= -1
    np.testing.assert_array_equal(cam.c2w[0], expected)
    np.testing.assert_array_equal(cam.c2w[0] @ GL_FLIP, gl0)
    assert cam.meta["monst3r_im_id"] == list(range(1, 121))


def test_gendop_prediction_case2(data_dir: Path) -> None:
    cam = trajkit.load(data_dir / "gendop/vis/case2.json", format="gendop-json")
    assert cam.size == (512, 512)
    np.testing.assert_array_equal(cam.K, [[600.0, 0, 256.0], [0, 1080.0, 256.0], [0, 0, 1]])
    # identity first pose in OpenGL axes = diag(1, -1, -1) in OpenCV axes
    np.testing.assert_allclose(cam.c2w[0], np.diag([1.0, -1.0, -1.0, 1.0]), atol=1e-12)
    assert float(np.linalg.norm(cam.centers, axis=1).max()) == pytest.approx(1.024, abs=1e-3)


def test_gendop_et1_keeps_off_centre_principal_point(data_dir: Path) -> None:
    cam = transforms_json.read_gendop(data_dir / "gendop/vis/et1.json")
    assert cam.size == (272, 272)
    assert (cam.K[0, 0], cam.K[0, 2], cam.K[1, 2]) == (456.0, 320.0, 136.0)


def test_gendop_round_trip(data_dir: Path, tmp_path: Path) -> None:
    for p in gendop_files(data_dir):
        cam = transforms_json.read_gendop(p)
        out = tmp_path / p.name
        trajkit.save(cam, out, format="gendop-json")
        back = transforms_json.read_gendop(out)
        assert back.allclose(cam, atol=1e-12)
        raw, new = raw_json(p), raw_json(out)
        assert set(new) == set(raw)
        assert all(set(f) == {"transform_matrix", "monst3r_im_id"} for f in new["frames"])
        assert new == raw  # values (and ids) identical
        # 512 stays an int, 512.0 a float
        assert type(new["w"]) is type(raw["w"]) and type(new["h"]) is type(raw["h"])


def test_gendop_writer_defaults(tmp_path: Path) -> None:
    out = tmp_path / "cam.json"
    cam = moving_path(frames=4)
    transforms_json.write_gendop(cam, out)
    raw = raw_json(out)
    assert [f["monst3r_im_id"] for f in raw["frames"]] == [1, 2, 3, 4]
    assert raw["w"] == 320 and type(raw["w"]) is int and type(raw["h"]) is int
    assert (raw["fl_x"], raw["fl_y"], raw["cx"], raw["cy"]) == (300.0, 310.0, 160.0, 120.0)
    gl2 = np.array(raw["frames"][2]["transform_matrix"])
    np.testing.assert_allclose(gl2, cam.c2w[2] @ GL_FLIP, atol=1e-15)
    assert detect(out).name == "gendop-json"


def test_gendop_writer_refuses_varying_intrinsics(tmp_path: Path) -> None:
    Ks = np.stack([np.array([[300.0 + i, 0, 160], [0, 300.0, 120], [0, 0, 1]]) for i in range(5)])
    with pytest.raises(TrajkitError):
        transforms_json.write_gendop(moving_path(K=Ks), tmp_path / "x.json")


# ---------------------------------------------------------------------------------------- nerfstudio-json
def nerfstudio_doc() -> dict:
    gl = [pose(turn("z", 10 * i) @ turn("y", 5 * i), [i, 0.5 * i, -2.0 * i]) for i in range(3)]
    frames = [{"file_path": f"images/img_{i}.jpg", "transform_matrix": m.tolist(), "colmap_im_id": i + 7}
              for i, m in enumerate(gl)]
    frames[1].update({"fl_x": 600.0, "cx": 300.0})
    return {
        "camera_model": "OPENCV", "fl_x": 500.0, "fl_y": 510.0, "cx": 320.0, "cy": 240.0, "w": 640, "h": 480,
        "k1": 0.1, "k2": -0.02, "p1": 0.001, "p2": -0.002,
        "applied_transform": [[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0]],
        "ply_file_path": "sparse_pc.ply",
        "frames": frames,
    }


def test_nerfstudio_read(tmp_path: Path) -> None:
    doc = nerfstudio_doc()
    p = write_text(tmp_path / "transforms.json", json.dumps(doc))
    assert detect(p).name == "nerfstudio-json"
    cam = trajkit.load(p)
    assert cam.size == (640, 480) and cam.num_frames == 3 and cam.fps == 30.0
    assert cam.K.shape == (3, 3, 3)
    np.testing.assert_array_equal(cam.K[0], [[500, 0, 320], [0, 510, 240], [0, 0, 1]])
    np.testing.assert_array_equal(cam.K[1], [[600, 0, 300], [0, 510, 240], [0, 0, 1]])
    for i, f in enumerate(doc["frames"]):
        expected = np.array(f["transform_matrix"])
        expected[:3, 1:3] *= -1
        np.testing.assert_allclose(cam.c2w[i], expected, atol=1e-15)
    assert cam.meta["file_paths"] == ["images/img_0.jpg", "images/img_1.jpg", "images/img_2.jpg"]
    assert cam.meta["distortion"] == {"k1": 0.1, "k2": -0.02, "p1": 0.001, "p2": -0.002}
    assert cam.meta["applied_transform"] == doc["applied_transform"]
    assert cam.meta["camera_model"] == "OPENCV"


def test_nerfstudio_round_trip(tmp_path: Path) -> None:
    p = write_text(tmp_path / "transforms.json", json.dumps(nerfstudio_doc()))
    cam = transforms_json.read_nerfstudio(p)
    out = tmp_path / "out.json"
    trajkit.save(cam, out, format="nerfstudio-json")
    back = trajkit.load(out)
    assert back.allclose(cam, atol=1e-12)
    np.testing.assert_array_equal(back.K, cam.K)
    raw, new = raw_json(p), raw_json(out)
    assert set(new) == set(raw)
    for key in ("camera_model", "fl_x", "fl_y", "cx", "cy", "w", "h", "k1", "k2", "p1", "p2",
                "applied_transform", "ply_file_path"):
        assert new[key] == raw[key], key
    for f_new, f_raw in zip(new["frames"], raw["frames"], strict=True):
        assert f_new["file_path"] == f_raw["file_path"]
        assert f_new["colmap_im_id"] == f_raw["colmap_im_id"]
        assert f_new["transform_matrix"] == f_raw["transform_matrix"]
    assert new["frames"][1]["fl_x"] == 600.0 and new["frames"][1]["cx"] == 300.0


def test_nerfstudio_writer_defaults(tmp_path: Path) -> None:
    out = tmp_path / "transforms.json"
    transforms_json.write_nerfstudio(moving_path(frames=3), out)
    raw = raw_json(out)
    assert [f["file_path"] for f in raw["frames"]] == [f"images/frame_{i:05d}.png" for i in (1, 2, 3)]
    assert raw["camera_model"] == "OPENCV" and raw["w"] == 320 and raw["h"] == 240
    assert detect(out).name == "nerfstudio-json"


def test_nerfstudio_blender_style_needs_size(tmp_path: Path) -> None:
    frames = [{"file_path": "r_0", "transform_matrix": np.eye(4).tolist()}]
    doc = {"camera_angle_x": 2 * math.atan(0.5), "frames": frames}
    p = write_text(tmp_path / "transforms_train.json", json.dumps(doc))
    with pytest.raises(FormatError, match="size"):
        transforms_json.read_nerfstudio(p)
    cam = trajkit.load(p, size=(800, 600))
    # tan(fov / 2) = 1/2, so f = W
    np.testing.assert_allclose(cam.K, [[800, 0, 400], [0, 800, 300], [0, 0, 1]], atol=1e-9)


# ---------------------------------------------------------------------------------------- re10k-txt
RE10K = {
    "0bf152ef84195293": dict(
        url="QShWPZxTDoE", first=158692025, last=162929596, fx=0.474812461, fy=0.844111024, rot=8.08,
        row0=[0.780003667, 0.059620168, -0.622928321, 0.726968666, -0.062449891, 0.997897983, 0.017311305,
              0.217967188, 0.622651041, 0.025398925, 0.782087326, -1.002211444],
        c1=(0.0706, -0.2354, 1.2329), c16=(1.1030, -0.3447, 3.8811)),
    "0c11dbe781b1c11c": dict(
        url="a-Unpcomk5k", first=89889800, last=94127367, fx=0.485388169, fy=0.862912326, rot=27.98,
        row0=[0.959632158, -0.051068146, 0.276583046, 0.339363991, 0.046715312, 0.998659134, 0.022308502,
              0.111317310, -0.277351439, -0.008487292, 0.960731030, -0.353512177],
        c1=(-0.4289, -0.0968, 0.2433), c16=(-2.4191, -0.4995, 2.2977)),
    "0c9b371cc6225682": dict(
        url="_ca03xP_KUU", first=211244000, last=215481000, fx=0.479272232, fy=0.852039479, rot=8.03,
        row0=[0.984322786, 0.006958477, -0.176239252, 0.004217217, -0.005594095, 0.999950409, 0.008237306,
              -0.107944544, 0.176287830, -0.007122268, 0.984312892, -0.571743822],
        c1=(0.0960, 0.1038, 0.5644), c16=(-0.5987, 0.1149, 2.9999)),
}


@pytest.mark.parametrize("clip", sorted(RE10K))
def test_re10k_files(data_dir: Path, clip: str) -> None:
    exp = RE10K[clip]
    cam = trajkit.load(data_dir / "formats/re10k" / f"{clip}.txt")
    assert isinstance(cam, CameraPath) and cam.num_frames == 16
    assert cam.meta["url"] == f"https://www.youtube.com/watch?v={exp['url']}"
    stamps = cam.meta["timestamps_us"]
    assert (stamps[0], stamps[-1]) == (exp["first"], exp["last"])
    assert cam.fps == pytest.approx(15e6 / (exp["last"] - exp["first"]))
    W, H = cam.size
    assert (W, H) == (1024, 576)  # long side 1024, W/H = fy/fx = 16/9
    assert cam.K[0, 0] == pytest.approx(exp["fx"] * W, rel=1e-12)
    assert cam.K[1, 1] == pytest.approx(exp["fy"] * H, rel=1e-12)
    assert (cam.K[0, 2], cam.K[1, 2]) == (0.5 * W, 0.5 * H)
    np.testing.assert_allclose(np.linalg.inv(cam.c2w[0])[:3].ravel(), exp["row0"], atol=1e-9)
    np.testing.assert_allclose(cam.centers[0], exp["c1"], atol=1e-4)
    np.testing.assert_allclose(cam.centers[15], exp["c16"], atol=1e-4)
    assert angle_deg(cam.R[0].T @ cam.R[15]) == pytest.approx(exp["rot"], abs=0.01)


def test_re10k_hints(data_dir: Path) -> None:
    p = data_dir / "formats/re10k/0bf152ef84195293.txt"
    cam = trajkit.load(p, size=(640, 360), fps=24)
    assert cam.size == (640, 360) and cam.fps == 24
    assert cam.K[0, 0] == pytest.approx(0.474812461 * 640) and cam.K[1, 2] == pytest.approx(180.0)


def _tokens(path: Path) -> tuple[str, list[list[str]]]:
    lines = path.read_text().splitlines()
    return lines[0], [ln.split() for ln in lines[1:] if ln.strip()]


@pytest.mark.parametrize("clip", sorted(RE10K))
def test_re10k_round_trip(data_dir: Path, tmp_path: Path, clip: str) -> None:
    p = data_dir / "formats/re10k" / f"{clip}.txt"
    cam = re10k.read(p)
    out = tmp_path / f"{clip}.txt"
    trajkit.save(cam, out, format="re10k-txt")
    url_a, rows_a = _tokens(p)
    url_b, rows_b = _tokens(out)
    assert url_a == url_b
    assert [r[0] for r in rows_a] == [r[0] for r in rows_b]  # integer timestamps, digit for digit
    np.testing.assert_allclose(np.array(rows_b, dtype=float), np.array(rows_a, dtype=float), rtol=0,
                               atol=1e-9)
    assert re10k.read(out).allclose(cam, atol=1e-12)


def test_re10k_without_url_line(data_dir: Path, tmp_path: Path) -> None:
    p = data_dir / "formats/re10k/0c11dbe781b1c11c.txt"
    bare = write_text(tmp_path / "bare.txt", "\n".join(p.read_text().splitlines()[1:]) + "\n")
    assert detect(bare).name == "re10k-txt"
    cam, ref = trajkit.load(bare), re10k.read(p)
    assert "url" not in cam.meta
    assert cam.allclose(ref, atol=0)


def test_re10k_writer_synthesises_timestamps(tmp_path: Path) -> None:
    out = tmp_path / "poses.txt"
    re10k.write(moving_path(frames=4, fps=10.0), out)
    header, rows = _tokens(out)
    assert header.startswith("http")
    assert [r[0] for r in rows] == ["0", "100000", "200000", "300000"]
    assert all(len(r) == 19 for r in rows)
    back = trajkit.load(out, size=(320, 240))
    assert back.fps == pytest.approx(10.0)
    assert back.allclose(moving_path(frames=4, fps=10.0), atol=1e-8)


# ---------------------------------------------------------------------------------------- motionctrl-json
MOTIONCTRL = {
    "018f7907401f2fef": dict(
        row15=[0.817947, -0.049612, 0.573150, -0.458227, 0.052785, 0.998544, 0.011104, 0.018992, -0.572867,
               0.021171, 0.819375, -1.389501], rot=35.12, centre=(-0.4222, -0.0123, 1.4009)),
    "088b93f15ca8745d": dict(
        row15=[0.934239, 0.041213, -0.354257, 1.336346, -0.042369, 0.999092, 0.004497, 0.089257, 0.354121,
               0.010808, 0.935137, -0.402010], rot=20.90, centre=(-1.1023, -0.1399, 0.8489)),
}


@pytest.mark.parametrize("clip", sorted(MOTIONCTRL))
def test_motionctrl_files(data_dir: Path, clip: str) -> None:
    exp = MOTIONCTRL[clip]
    cam = trajkit.load(data_dir / "formats/motionctrl" / f"test_camera_{clip}.json")
    assert isinstance(cam, CameraPath) and cam.num_frames == 16
    w2c = np.linalg.inv(cam.c2w)
    np.testing.assert_allclose(w2c[0], np.eye(4), atol=1.4e-7)
    np.testing.assert_allclose(w2c[15, :3].ravel(), exp["row15"], atol=6e-7)
    np.testing.assert_allclose(cam.centers[15], exp["centre"], atol=1e-4)
    assert angle_deg(cam.R[0].T @ cam.R[15]) == pytest.approx(exp["rot"], abs=0.01)
    # unstored values: 256x256, focal = image width, 8 fps
    assert cam.size == (256, 256) and cam.fps == 8.0 and cam.metric is False
    np.testing.assert_allclose(cam.K, [[256, 0, 128], [0, 256, 128], [0, 0, 1]], atol=1e-9)


def test_motionctrl_row1(data_dir: Path) -> None:
    cam = motionctrl.read(data_dir / "formats/motionctrl/test_camera_018f7907401f2fef.json")
    row1 = np.linalg.inv(cam.c2w[1])[0]
    np.testing.assert_allclose(row1, [0.9982863664627075, -0.0024742060340940952, 0.05846544727683067,
                                      -0.024547122418880463], rtol=0, atol=1e-12)


def test_motionctrl_hints(data_dir: Path) -> None:
    cam = trajkit.load(data_dir / "formats/motionctrl/test_camera_088b93f15ca8745d.json", size=(512, 320),
                       hfov=90, fps=16)
    assert cam.size == (512, 320) and cam.fps == 16
    np.testing.assert_allclose(cam.K, [[256, 0, 256], [0, 256, 160], [0, 0, 1]], atol=1e-9)


@pytest.mark.parametrize("clip", sorted(MOTIONCTRL))
def test_motionctrl_round_trip(data_dir: Path, tmp_path: Path, clip: str) -> None:
    p = data_dir / "formats/motionctrl" / f"test_camera_{clip}.json"
    cam = motionctrl.read(p)
    out = tmp_path / "poses.json"
    trajkit.save(cam, out, format="motionctrl-json")
    np.testing.assert_allclose(np.array(raw_json(out)), np.array(raw_json(p)), rtol=0, atol=1e-12)
    back = trajkit.load(out)
    np.testing.assert_allclose(back.c2w, cam.c2w, rtol=0, atol=1e-12)


def test_motionctrl_writer_writes_own_w2c(tmp_path: Path) -> None:
    cam = moving_path(frames=3)
    cam = cam.replace(c2w=np.stack([pose(turn("x", 30), [1, 2, 3]) @ m for m in cam.c2w]))
    out = tmp_path / "abs.json"
    motionctrl.write(cam, out)
    rows = np.array(raw_json(out))
    assert rows.shape == (3, 12)
    np.testing.assert_allclose(rows[0].reshape(3, 4), np.linalg.inv(cam.c2w[0])[:3], atol=1e-12)
    assert not np.allclose(rows[0].reshape(3, 4), np.eye(4)[:3], atol=1e-3)
    motionctrl.write(cam.relative_to_first(), out)
    np.testing.assert_allclose(np.array(raw_json(out))[0].reshape(3, 4), np.eye(4)[:3], atol=1e-12)


# ---------------------------------------------------------------------------------------- recammaster-json
# Frame-80 motion from ecosystem.md §11, in Unreal terms: rotation angle and axis (Unreal axis letter),
# and ΔT in cm. Unreal (X fwd, Y right, Z up) maps to trajkit (Y, -Z, X) / 100.
RECAM_AT_80 = {
    "cam01": (19.88, "Z", (0, 0, 0)), "cam02": (19.88, "Z", (0, 0, 0)),
    "cam03": (9.94, "Y", (0, 0, 0)), "cam04": (9.94, "Y", (0, 0, 0)),
    "cam05": (0.0, None, (198.76, 0, 0)), "cam06": (0.0, None, (-198.76, 0, 0)),
    "cam07": (13.95, "Y", (0, 0, 99.38)), "cam08": (13.95, "Y", (0, 0, -99.38)),
    "cam09": (29.82, "Z", (53.26, -198.76, 0)), "cam10": (29.82, "Z", (53.26, 198.76, 0)),
}
UE_AXIS_IN_TRAJKIT = {"X": np.array([0.0, 0, 1]), "Y": np.array([1.0, 0, 0]), "Z": np.array([0.0, -1, 0])}


def ue_to_trajkit_vector(v) -> np.ndarray:
    X, Y, Z = v
    return np.array([Y, -Z, X]) / 100.0


def recam_file(data_dir: Path) -> Path:
    return data_dir / "formats/recammaster/camera_extrinsics.json"


def test_recammaster_set(data_dir: Path) -> None:
    cams = trajkit.load(recam_file(data_dir))
    assert isinstance(cams, CameraSet)
    assert cams.names == [f"cam{i:02d}" for i in range(1, 11)]
    start = ue_to_trajkit_vector((3390, 1380, 240))
    np.testing.assert_allclose(start, [13.80, -2.40, 33.90])
    for name, cam in cams.cameras.items():
        assert cam.num_frames == 81 and cam.metric is True, name
        assert cam.size == (832, 480) and cam.fps == 15.0
        np.testing.assert_allclose(cam.c2w[0, :3, :3], np.eye(3), atol=1e-12)
        np.testing.assert_allclose(cam.centers[0], start, atol=1e-12)
    # default hfov 60 degrees on 832 px
    assert cams.get("cam01").K[0, 0] == pytest.approx(416 / math.tan(math.radians(30)))


def test_recammaster_frame80(data_dir: Path) -> None:
    cams = recammaster.read(recam_file(data_dir))
    axes = {}
    for name, (deg, ue_axis, dt_cm) in RECAM_AT_80.items():
        cam = cams.get(name)
        rel = cam.R[0].T @ cam.R[80]
        assert angle_deg(rel) == pytest.approx(deg, abs=0.01), name
        if ue_axis is not None:
            axes[name] = axis_of(rel)
            assert abs(axes[name] @ UE_AXIS_IN_TRAJKIT[ue_axis]) == pytest.approx(1.0, abs=1e-6), name
        np.testing.assert_allclose(cam.centers[80] - cam.centers[0], ue_to_trajkit_vector(dt_cm), atol=1e-4,
                                   err_msg=name)
    for a, b in (("cam01", "cam02"), ("cam03", "cam04"), ("cam07", "cam08"), ("cam09", "cam10")):
        assert axes[a] @ axes[b] == pytest.approx(-1.0, abs=1e-6)  # opposite senses
    # Pan Right turns the optical axis (+z column) towards +x; Tilt Up towards -y (y points down).
    assert cams.get("cam01").c2w[80, 0, 2] > 0.3 and cams.get("cam03").c2w[80, 1, 2] < -0.1
    # zoom in moves forward (Unreal X, trajkit z) by 198.76 cm
    zoom = cams.get("cam05").centers
    assert zoom[80, 2] - zoom[0, 2] == pytest.approx(1.9876, abs=1e-4)
    # motion is linear in the frame index: cam01 is at 4.969 degrees at frame 20
    cam01 = cams.get("cam01")
    assert angle_deg(cam01.R[0].T @ cam01.R[20]) == pytest.approx(4.969, abs=1e-3)


def test_recammaster_cam01_rows(data_dir: Path) -> None:
    raw = raw_json(recam_file(data_dir))
    m = parse_fmatrix(raw["frame80"]["cam01"], None, "test", "cam01")
    rows = [[0.940432, 0.339982, 0], [-0.339982, 0.940432, 0], [0, 0, 1]]
    np.testing.assert_allclose(m[:3, :3], rows, atol=0)
    cam = recammaster.read(recam_file(data_dir), camera="cam01")
    # the same matrix by hand: R = P Mᵀ Pᵀ with P mapping (X, Y, Z) to (Y, -Z, X)
    P = np.array([[0.0, 1, 0], [0, 0, -1], [1, 0, 0]])
    np.testing.assert_allclose(cam.R[80], P @ m[:3, :3].T @ P.T, atol=1e-15)


def test_recammaster_conversion_inverts(data_dir: Path) -> None:
    raw = raw_json(recam_file(data_dir))
    mats = np.array([[parse_fmatrix(s, None, "test", f"{k}.{c}") for c, s in cams.items()]
                     for k, cams in raw.items()])
    assert mats.shape == (81, 10, 4, 4)
    np.testing.assert_allclose(opencv_to_unreal(unreal_to_opencv(mats)), mats, rtol=0, atol=1e-9)


def test_recammaster_round_trip(data_dir: Path, tmp_path: Path) -> None:
    cams = recammaster.read(recam_file(data_dir))
    out = tmp_path / "camera_extrinsics.json"
    trajkit.save(cams, out, format="recammaster-json")
    raw, new = raw_json(recam_file(data_dir)), raw_json(out)
    assert list(new) == [f"frame{i}" for i in range(81)]
    for key in raw:
        assert list(new[key]) == list(raw[key])
        for cam in raw[key]:
            a = parse_fmatrix(raw[key][cam], None, "t", cam)
            b = parse_fmatrix(new[key][cam], None, "t", cam)
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)
    back = trajkit.load(out)
    assert isinstance(back, CameraSet) and back.names == cams.names
    for name in cams.names:
        np.testing.assert_allclose(back.get(name).c2w, cams.get(name).c2w, rtol=0, atol=1e-12)


def test_recammaster_single_camera(data_dir: Path, tmp_path: Path) -> None:
    p = recam_file(data_dir)
    by_name = trajkit.load(p, camera="cam03")
    by_number = trajkit.load(p, camera=3)
    by_text = recammaster.read(p, camera="3")
    assert isinstance(by_name, CameraPath)
    np.testing.assert_array_equal(by_name.c2w, by_number.c2w)
    np.testing.assert_array_equal(by_name.c2w, by_text.c2w)
    np.testing.assert_array_equal(by_name.c2w, recammaster.read(p).get("cam03").c2w)
    assert not np.allclose(by_name.c2w, recammaster.read(p, camera=1).c2w)
    out = tmp_path / "one.json"
    recammaster.write(by_name, out)
    assert list(raw_json(out)["frame0"]) == ["cam01"]
    np.testing.assert_allclose(trajkit.load(out, camera=1).c2w, by_name.c2w, atol=1e-12)


@pytest.mark.parametrize("bad", ["cam11", 0, 11, "front"])
def test_recammaster_unknown_camera(data_dir: Path, bad) -> None:
    with pytest.raises(TrajkitError) as info:
        trajkit.load(recam_file(data_dir), camera=bad)
    assert "cam01" in str(info.value) and "cam10" in str(info.value)


# ---------------------------------------------------------------------------------------- malformed input
def _gendop_doc(data_dir: Path) -> dict:
    return raw_json(data_dir / "gendop/text_rgbd/case1_transforms_cleaning.json")


def _assert_rejected(path: Path, fmt: str, reader) -> None:
    with pytest.raises(FormatError) as info:
        reader(path)
    assert str(path) in str(info.value) and fmt in str(info.value)
    with pytest.raises(TrajkitError):
        trajkit.load(path, format=fmt)


def _gendop_cases(data_dir: Path) -> dict[str, str]:
    text = (data_dir / "gendop/text_rgbd/case1_transforms_cleaning.json").read_text()
    cases = {"truncated": text[: len(text) // 2]}

    def variant(change) -> str:
        doc = _gendop_doc(data_dir)
        change(doc)
        return json.dumps(doc)

    cases["3x3"] = variant(lambda d: d["frames"][5].update(transform_matrix=np.eye(3).tolist()))
    cases["empty-frames"] = variant(lambda d: d.update(frames=[]))
    cases["scaled-rotation"] = variant(
        lambda d: d["frames"][7].update(transform_matrix=(np.diag([1.1, 1.1, 1.1, 1]) @ np.eye(4)).tolist()))
    cases["missing-fl"] = variant(lambda d: d.pop("fl_x"))
    cases["fractional-w"] = variant(lambda d: d.update(w=511.5))
    cases["string-h"] = variant(lambda d: d.update(h="208"))
    cases["frames-not-list"] = variant(lambda d: d.update(frames={"0": 1}))
    cases["short-row"] = variant(lambda d: d["frames"][0]["transform_matrix"][1].pop())
    cases["huge"] = text.replace('"fl_x": 642.345337', '"fl_x": 1e999', 1)
    cases["nan-matrix"] = text.replace("0.9956070184707642", "1e999", 1)
    cases["list"] = "[1, 2, 3]"
    cases["strings"] = variant(lambda d: d["frames"][2].update(transform_matrix=[["1", "0", "0", "0"]] * 4))
    return cases


GENDOP_BAD = ["truncated", "3x3", "empty-frames", "scaled-rotation", "missing-fl", "fractional-w", "string-h",
              "frames-not-list", "short-row", "huge", "nan-matrix", "list", "strings"]


@pytest.mark.parametrize("case", GENDOP_BAD)
def test_gendop_malformed(data_dir: Path, tmp_path: Path, case: str) -> None:
    p = write_text(tmp_path / "bad.json", _gendop_cases(data_dir)[case])
    _assert_rejected(p, "gendop-json", transforms_json.read_gendop)
    if case in ("truncated", "scaled-rotation", "nan-matrix"):
        with pytest.raises(TrajkitError):  # still sniffed as gendop-json, then refused
            trajkit.load(p)


@pytest.mark.parametrize("case", ["sizes-differ", "path-not-string", "no-size"])
def test_nerfstudio_malformed(tmp_path: Path, case: str) -> None:
    doc = nerfstudio_doc()
    if case == "sizes-differ":
        doc["frames"][2]["w"] = 320
    elif case == "path-not-string":
        doc["frames"][0]["file_path"] = 3
    else:
        for key in ("w", "h"):
            doc.pop(key)
    p = write_text(tmp_path / "transforms.json", json.dumps(doc))
    _assert_rejected(p, "nerfstudio-json", transforms_json.read_nerfstudio)


def _re10k_cases(data_dir: Path) -> dict[str, str]:
    lines = (data_dir / "formats/re10k/0bf152ef84195293.txt").read_text().splitlines()

    def with_row(i: int, change) -> str:
        out = list(lines)
        tokens = out[i].split()
        change(tokens)
        out[i] = " ".join(tokens)
        return "\n".join(out) + "\n"

    return {
        "huge": with_row(3, lambda t: t.__setitem__(9, "1e999")),
        "nan": with_row(3, lambda t: t.__setitem__(10, "nan")),
        "short-row": with_row(5, lambda t: t.pop()),
        "long-row": with_row(5, lambda t: t.append("1.0")),
        "word": with_row(2, lambda t: t.__setitem__(8, "abc")),
        "scaled-rotation": with_row(4, lambda t: t.__setitem__(7, str(2 * float(t[7])))),
        "url-only": lines[0] + "\n",
        "empty": "\n\n",
    }


@pytest.mark.parametrize("case", ["huge", "nan", "short-row", "long-row", "word", "scaled-rotation",
                                  "url-only", "empty"])
def test_re10k_malformed(data_dir: Path, tmp_path: Path, case: str) -> None:
    p = write_text(tmp_path / "bad.txt", _re10k_cases(data_dir)[case])
    _assert_rejected(p, "re10k-txt", re10k.read)


def _motionctrl_cases(data_dir: Path) -> dict[str, str]:
    text = (data_dir / "formats/motionctrl/test_camera_018f7907401f2fef.json").read_text()
    rows = json.loads(text)
    scaled = [list(r) for r in rows]
    scaled[3] = [2 * x for x in scaled[3]]
    return {
        "truncated": text[:1000],
        "short-row": json.dumps([*rows[:4], rows[4][:11], *rows[5:]]),
        "empty": "[]",
        "huge": text.replace("0.9982863664627075", "1e999", 1),
        "scaled-rotation": json.dumps(scaled),
        "3x3": json.dumps([np.eye(3).tolist()] * 4),
        "object": '{"poses": []}',
        "strings": json.dumps([[str(x) for x in r] for r in rows]),
    }


@pytest.mark.parametrize("case", ["truncated", "short-row", "empty", "huge", "scaled-rotation", "3x3",
                                  "object", "strings"])
def test_motionctrl_malformed(data_dir: Path, tmp_path: Path, case: str) -> None:
    p = write_text(tmp_path / "bad.json", _motionctrl_cases(data_dir)[case])
    _assert_rejected(p, "motionctrl-json", motionctrl.read)


def _recammaster_cases(data_dir: Path) -> dict[str, str]:
    text = recam_file(data_dir).read_text()
    doc = json.loads(text)

    def variant(change) -> str:
        d = json.loads(text)
        change(d)
        return json.dumps(d)

    return {
        "truncated": text[:5000],
        "missing-camera": variant(lambda d: d["frame40"].pop("cam07")),
        "three-rows": variant(lambda d: d["frame3"].update(cam02="[1 0 0 0] [0 1 0 0] [0 0 1 0]")),
        "short-row": variant(lambda d: d["frame3"].update(cam02="[1 0 0] [0 1 0 0] [0 0 1 0] [1 2 3 1]")),
        "huge": variant(lambda d: d["frame9"].update(cam04="[1 0 0 0] [0 1 0 0] [0 0 1 0] [1e999 0 0 1]")),
        "scaled-rotation": variant(
            lambda d: d["frame9"].update(cam04="[2 0 0 0] [0 1 0 0] [0 0 1 0] [0 0 0 1]")),
        "bad-key": variant(lambda d: d.update(extra=doc["frame0"])),
        "empty": "{}",
        "number-value": variant(lambda d: d["frame2"].update(cam01=5)),
    }


@pytest.mark.parametrize("case", ["truncated", "missing-camera", "three-rows", "short-row", "huge",
                                  "scaled-rotation", "bad-key", "empty", "number-value"])
def test_recammaster_malformed(data_dir: Path, tmp_path: Path, case: str) -> None:
    p = write_text(tmp_path / "bad.json", _recammaster_cases(data_dir)[case])
    _assert_rejected(p, "recammaster-json", recammaster.read)
