"""glTF 2.0 entity paths: files written by hand from the glTF specification (JSON + packed little-endian buffers),
with analytically known animations, read as ``.gltf`` (data URI and side file) and ``.glb``."""

from __future__ import annotations

import base64
import contextlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from trajkit.core.errors import TrajkitError
from trajkit.formats.registry import detect, load

FLOAT, UBYTE_N = 5126, 5121


def pack(arrays: list[tuple[np.ndarray, str]]) -> tuple[bytes, list[dict], list[dict]]:
    """One buffer holding the arrays (float32, 4-byte aligned), their buffer views and accessors."""
    blob, views, accessors = b"", [], []
    for arr, kind in arrays:
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": len(data)})
        accessors.append({"bufferView": len(views) - 1, "componentType": FLOAT, "count": len(arr), "type": kind})
        blob += data + b"\0" * (-len(data) % 4)
    return blob, views, accessors


def yaw_quaternion(degrees: float) -> list[float]:
    """glTF (x, y, z, w) for a turn about +Y (up)."""
    h = np.radians(degrees) / 2
    return [0.0, float(np.sin(h)), 0.0, float(np.cos(h))]


def scene(interpolation: str = "LINEAR") -> tuple[dict, bytes]:
    """A fox parented under a root node 3 m in front of the origin (glTF −Z), walking +X then −Z over 2 s while
    turning 90° left; a camera 1.5 m up at z = +5, looking down −Z (towards the fox)."""
    times = np.array([[0.0], [1.0], [2.0]])
    moves = np.array([[0, 0, 0], [1, 0, 0], [1, 0, -2]], float)
    turns = np.array([yaw_quaternion(0), yaw_quaternion(45), yaw_quaternion(90)])
    if interpolation == "CUBICSPLINE":  # (in-tangent, value, out-tangent) per key, zero tangents
        moves = np.stack([np.zeros_like(moves), moves, np.zeros_like(moves)], 1).reshape(-1, 3)
        turns = np.stack([np.zeros_like(turns), turns, np.zeros_like(turns)], 1).reshape(-1, 4)
    blob, views, accessors = pack([(times, "SCALAR"), (moves, "VEC3"), (turns, "VEC4")])
    doc = {
        "asset": {"version": "2.0", "generator": "hand-written test"},
        "scene": 0, "scenes": [{"nodes": [0, 2]}],
        "nodes": [
            {"name": "root", "translation": [0, 0, -3], "children": [1]},
            {"name": "fox"},
            {"name": "shot_cam", "camera": 0, "translation": [0, 1.5, 5]},
        ],
        "cameras": [{"type": "perspective", "perspective": {"yfov": 0.6, "znear": 0.1}}],
        "animations": [{"channels": [{"sampler": 0, "target": {"node": 1, "path": "translation"}},
                                     {"sampler": 1, "target": {"node": 1, "path": "rotation"}}],
                        "samplers": [{"input": 0, "output": 1, "interpolation": interpolation},
                                     {"input": 0, "output": 2, "interpolation": interpolation}]}],
        "buffers": [{"byteLength": len(blob)}], "bufferViews": views, "accessors": accessors,
    }
    return doc, blob


def write_gltf(folder: Path, doc: dict, blob: bytes, name: str = "scene.gltf", side_file: bool = False) -> Path:
    doc = json.loads(json.dumps(doc))
    if side_file:
        (folder / "scene.bin").write_bytes(blob)
        doc["buffers"][0]["uri"] = "scene.bin"
    else:
        doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


def write_glb(path: Path, doc: dict, blob: bytes) -> Path:
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    blob += b"\0" * (-len(blob) % 4)
    chunks = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(blob), 0x004E4942) + blob
    path.write_bytes(b"glTF" + struct.pack("<II", 2, 12 + len(chunks)) + chunks)
    return path


def test_animated_node_becomes_an_entity_in_trajkit_axes(tmp_path):
    doc, blob = scene()
    path = write_gltf(tmp_path, doc, blob)
    assert detect(path).name == "gltf"
    ents = load(path, fps=10)
    assert ents.num_entities == 1 and ents.num_frames == 21 and ents.prompts == ("fox",)
    # glTF (x, y, z) → trajkit (x, −y, −z); the root puts the fox 3 m down −Z = 3 m along trajkit +z
    expected = {0: (0, 0, 3), 5: (0.5, 0, 3), 10: (1, 0, 3), 15: (1, 0, 4), 20: (1, 0, 5)}
    for frame, xyz in expected.items():
        assert np.allclose(ents.poses[0, frame, :3, 3], xyz, atol=1e-6), frame
    # at rest the fox faces glTF +Z (towards the camera) = trajkit −z; its down axis is gravity (+y)
    R0 = ents.poses[0, 0, :3, :3]
    assert np.allclose(R0[:, 2], [0, 0, -1], atol=1e-6) and np.allclose(R0[:, 1], [0, 1, 0], atol=1e-6)
    assert np.isclose(np.linalg.det(R0), 1.0)
    # after a 90° left turn about glTF +Y, it faces glTF +X = trajkit +x; half way it is 45° (slerp)
    assert np.allclose(ents.poses[0, 20, :3, 2], [1, 0, 0], atol=1e-6)
    assert np.allclose(ents.poses[0, 10, :3, 2], [np.sqrt(0.5), 0, -np.sqrt(0.5)], atol=1e-6)


def test_camera_sees_the_entity_below_the_centre(tmp_path):
    doc, blob = scene()
    ents = load(write_gltf(tmp_path, doc, blob), fps=10, size=(720, 480))
    cam = ents.camera
    assert cam is not None and cam.meta["name"] == "shot_cam" and cam.metric
    assert np.allclose(cam.c2w[0, :3, 3], [0, -1.5, -5]) and np.allclose(cam.c2w[0, :3, 2], [0, 0, 1])
    assert cam.Ks[0][1, 1] == pytest.approx(240 / np.tan(0.3))
    assert cam.num_frames == 1  # nothing animates it: a static camera
    uv, depth = cam.project(ents.positions[0, :1])
    assert depth[0, 0] == pytest.approx(8.0)
    assert uv[0, 0, 0] == pytest.approx(360.0) and uv[0, 0, 1] > 240  # centred, below the horizon line
    in_cam = ents.in_camera()[0, 0]
    assert np.allclose(in_cam[:3, 3], [0, 1.5, 8], atol=1e-6)


def test_glb_and_side_buffers_read_the_same(tmp_path):
    doc, blob = scene()
    a = load(write_gltf(tmp_path, doc, blob), fps=10)
    b = load(write_gltf(tmp_path, doc, blob, name="side.gltf", side_file=True), fps=10)
    c = load(write_glb(tmp_path / "scene.glb", doc, blob), fps=10)
    assert a.allclose(b) and a.allclose(c)


def test_step_and_cubic_samplers(tmp_path):
    doc, blob = scene("STEP")
    step = load(write_gltf(tmp_path, doc, blob, name="step.gltf"), fps=10)
    assert np.allclose(step.poses[0, 9, :3, 3], [0, 0, 3]) and np.allclose(step.poses[0, 10, :3, 3], [1, 0, 3])
    doc, blob = scene("CUBICSPLINE")
    cubic = load(write_gltf(tmp_path, doc, blob, name="cubic.gltf"), fps=10)
    # zero tangents: Hermite h01(u) = 3u² − 2u³ → 0.104 at u = 0.2, 0.5 at u = 0.5
    assert cubic.poses[0, 2, 0, 3] == pytest.approx(3 * 0.04 - 2 * 0.008)
    assert cubic.poses[0, 5, 0, 3] == pytest.approx(0.5)


def test_entities_from_gltf_in_a_job(tmp_path):
    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import parse_jobs

    doc, blob = scene()
    write_gltf(tmp_path, doc, blob)
    spec = parse_jobs({"entities": {"file": "scene.gltf", "prompts": ["a red fox trotting"]},
                       "backend": "cogvideox-3dtrajmaster", "frames": 9, "size": [64, 48],
                       "options": {"location": "forest"}})[0]
    with pytest.raises(TrajkitError, match="injector"):  # resolved fully, then the backend asks for its weights
        resolve_job(spec, tmp_path)


def test_hostile_and_broken_files_are_refused(tmp_path):
    doc, blob = scene()
    bad = json.loads(json.dumps(doc))
    bad["buffers"][0]["uri"] = "../../etc/passwd"
    path = tmp_path / "evil.gltf"
    path.write_text(json.dumps(bad))
    with pytest.raises(TrajkitError, match="plain file name"):
        load(path)
    bad["buffers"][0]["uri"] = "https://example.com/scene.bin"
    path.write_text(json.dumps(bad))
    with pytest.raises(TrajkitError, match="plain file name"):
        load(path)
    bad = json.loads(json.dumps(doc))
    bad["accessors"][1]["count"] = 50  # past the buffer
    with pytest.raises(TrajkitError, match="past its buffer view"):
        load(write_gltf(tmp_path, bad, blob, name="long.gltf"))
    nan = np.frombuffer(blob, "<f4").copy()
    nan[4] = np.nan
    with pytest.raises(TrajkitError, match="NaN"):
        load(write_gltf(tmp_path, doc, nan.tobytes(), name="nan.gltf"))
    still = json.loads(json.dumps(doc))
    still["animations"] = []
    with pytest.raises(TrajkitError, match="no animated nodes"):
        load(write_gltf(tmp_path, still, blob, name="still.gltf"))
    with pytest.raises(TrajkitError, match="no node named 'wolf'"):
        load(write_gltf(tmp_path, doc, blob, name="n.gltf"), nodes=["wolf"])
    (tmp_path / "trunc.glb").write_bytes(write_glb(tmp_path / "ok.glb", doc, blob).read_bytes()[:40])
    with pytest.raises(TrajkitError):
        load(tmp_path / "trunc.glb")


def test_an_animated_camera_has_one_pose_per_frame(tmp_path):
    doc, blob = scene()
    doc["animations"][0]["channels"].append({"sampler": 0, "target": {"node": 2, "path": "translation"}})
    ents = load(write_gltf(tmp_path, doc, blob), fps=10, camera="shot_cam")
    cam = ents.camera
    assert cam.num_frames == 21
    assert np.allclose(cam.c2w[10, :3, 3], [1, 0, 0]) and np.allclose(cam.c2w[20, :3, 3], [1, 0, 2])
    assert load(write_gltf(tmp_path, doc, blob, name="nocam.gltf"), camera="none").camera is None


def test_mutated_documents_fail_cleanly(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from trajkit.core.entities import EntityPaths

    doc, blob = scene()
    values = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                       st.text(max_size=8), st.lists(st.integers(-2, 5), max_size=5), st.just({}))
    places = [("accessors", 0, "count"), ("accessors", 1, "componentType"), ("accessors", 2, "type"),
              ("accessors", 1, "byteOffset"), ("bufferViews", 1, "byteStride"), ("bufferViews", 0, "byteLength"),
              ("nodes", 0, "children"), ("nodes", 1, "rotation"), ("nodes", 2, "camera"),
              ("animations", 0, "samplers"), ("cameras", 0, "perspective"), ("buffers", 0, "uri")]

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(place=st.sampled_from(places), value=values)
    def run(place, value):
        bad = json.loads(json.dumps(doc))
        bad["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
        bad[place[0]][place[1]][place[2]] = value
        path = tmp_path / "m.gltf"
        path.write_text(json.dumps(bad))
        with contextlib.suppress(TrajkitError):
            assert isinstance(load(path, fps=10), EntityPaths)

    run()
