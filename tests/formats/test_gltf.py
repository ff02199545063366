"""glTF 2.0 entity paths: files written by hand from the glTF specification (JSON + packed little-endian buffers),
with analytically known animations, read as ``.gltf`` (data URI and side file) and ``.glb``."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from trajkit.core.errors import FormatError, TrajkitError
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
    from trajkit.jobs.resolve import _resolve_entities

    ents, _, _ = _resolve_entities(spec, tmp_path, (64, 48), [], dataset_crop=True)
    assert ents.prompts == ("a red fox trotting",) and ents.num_frames == 9 and ents.camera.size == (64, 48)
    # the fox's 2 s walk, resampled to the job's 9 frames: +X 1 m then glTF −Z 2 m (trajkit +z)
    assert np.allclose(ents.poses[0, 0, :3, 3], [0, 0, 3], atol=1e-6)
    assert np.allclose(ents.poses[0, -1, :3, 3], [1, 0, 5], atol=1e-6)


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


@pytest.mark.hypothesis  # a property (run inside the test), selected with the others by scripts/fuzz.sh
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
              ("animations", 0, "samplers"), ("cameras", 0, "perspective"), ("buffers", 0, "uri"),
              ("accessors", 0, "bufferView"), ("bufferViews", 2, "buffer")]
    #: index fields and the length of the array they point into
    indices = {("nodes", 2, "camera"): 1, ("accessors", 0, "bufferView"): 3, ("bufferViews", 2, "buffer"): 1}

    def out_of_range(place, value) -> bool:
        """Whether ``value`` puts an index outside its array (which must be refused as such)."""
        if place == ("nodes", 0, "children"):
            return isinstance(value, list) and len(set(value)) == len(value) and any(not 0 <= v < 3 for v in value)
        return place in indices and type(value) is int and not 0 <= value < indices[place]

    def check(place, value):
        bad = json.loads(json.dumps(doc))
        bad["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
        bad[place[0]][place[1]][place[2]] = value
        path = tmp_path / "m.gltf"
        path.write_text(json.dumps(bad))
        if out_of_range(place, value):
            with pytest.raises(FormatError, match=r"index -?\d+ is out of range"):
                load(path, fps=10)
            return
        with contextlib.suppress(TrajkitError):
            assert isinstance(load(path, fps=10), EntityPaths)

    for place in [*indices, ("nodes", 0, "children")]:  # each index field, once with -1 and once past the end
        for value in (-1, 7):
            assert out_of_range(place, [value] if place[2] == "children" else value)
            check(place, [value] if place[2] == "children" else value)
    examples = int(os.environ.get("TRAJKIT_FUZZ_EXAMPLES", "160"))
    settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(
        given(place=st.sampled_from(places), value=values)(check))()


def relink(doc: dict, node: int) -> dict:
    """``doc`` with both of the fox's channels moved to node ``node``."""
    doc = json.loads(json.dumps(doc))
    for channel in doc["animations"][0]["channels"]:
        channel["target"]["node"] = node
    return doc


def test_a_static_node_under_an_animated_parent_moves(tmp_path):
    doc, blob = scene()
    ents = load(write_gltf(tmp_path, relink(doc, 0), blob), fps=10, nodes=["fox"])  # the root walks, not the fox
    assert ents.num_frames == 21 and ents.prompts == ("fox",)
    # the root's animated translation replaces its static 3 m offset
    assert np.allclose(ents.poses[0, 0, :3, 3], [0, 0, 0], atol=1e-6)
    assert np.allclose(ents.poses[0, 10, :3, 3], [1, 0, 0], atol=1e-6)
    assert np.allclose(ents.poses[0, 20, :3, 3], [1, 0, 2], atol=1e-6)
    assert np.allclose(ents.poses[0, 20, :3, 2], [1, 0, 0], atol=1e-6)  # and turns with it


def test_a_moving_camera_sets_the_timeline_of_static_entities(tmp_path):
    doc, blob = scene()
    ents = load(write_gltf(tmp_path, relink(doc, 2), blob), fps=10, nodes=["fox"])  # only the camera moves
    assert ents.num_frames == 21 and ents.camera.num_frames == 21
    assert np.allclose(ents.poses[0, :, :3, 3], [0, 0, 3], atol=1e-6)  # the fox stands still
    assert np.allclose(ents.camera.c2w[0, :3, 3], [0, 0, 0], atol=1e-6)
    assert np.allclose(ents.camera.c2w[20, :3, 3], [1, 0, 2], atol=1e-6)
    assert np.allclose(ents.camera.c2w[20, :3, 2], [-1, 0, 0], atol=1e-6)  # turned 90° left: looks along −x


def many_animated_nodes(tmp_path: Path, count: int, last_key: float) -> Path:
    """``count`` nodes sharing one translation sampler whose last key is at ``last_key`` s (a tiny, costly file)."""
    times = np.array([[0.0], [last_key]])
    blob, views, accessors = pack([(times, "SCALAR"), (np.zeros((2, 3)), "VEC3")])
    doc = {"asset": {"version": "2.0"}, "nodes": [{"name": f"n{i}"} for i in range(count)],
           "animations": [{"samplers": [{"input": 0, "output": 1}],
                           "channels": [{"sampler": 0, "target": {"node": i, "path": "translation"}}
                                        for i in range(count)]}],
           "buffers": [{"byteLength": len(blob)}], "bufferViews": views, "accessors": accessors}
    return write_gltf(tmp_path, doc, blob, name=f"many{count}.gltf")


def test_sampling_is_bounded_before_it_starts(tmp_path):
    path = many_animated_nodes(tmp_path, 11, 3333.0)  # 99 991 frames × 11 nodes: 1.1 M poses (~140 MB each copy)
    assert path.stat().st_size < 4096
    with pytest.raises(FormatError, match=r"99991 frames × 11 nodes .* too much to sample"):
        load(path)
    assert load(path, nodes=["n3"]).num_frames == 99991  # one node is fine
    with pytest.raises(FormatError, match="300 nodes to read as entities"):
        load(many_animated_nodes(tmp_path, 300, 1.0))


def test_accessor_values_are_bounded_across_the_document(tmp_path):
    doc, blob = scene()
    view = len(doc["bufferViews"])
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(blob), "byteLength": 12_000_000})
    blob += b"\0" * 12_000_000  # one long view of zeros, read through many accessors
    doc["buffers"][0]["byteLength"] = len(blob)
    values = len(doc["accessors"])
    doc["accessors"].append({"bufferView": view, "componentType": FLOAT, "count": 1_000_000, "type": "VEC3"})
    samplers, channels = doc["animations"][0]["samplers"], doc["animations"][0]["channels"]
    for _ in range(24):  # 24 distinct accessors of a million keys over the same 4 MB
        doc["accessors"].append({"bufferView": view, "componentType": FLOAT, "count": 1_000_000, "type": "SCALAR"})
        samplers.append({"input": len(doc["accessors"]) - 1, "output": values})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": 0, "path": "scale"}})
    with pytest.raises(FormatError, match="accessors are too large"):
        load(write_gltf(tmp_path, doc, blob, side_file=True))


def broken(tmp_path: Path, change, name: str = "broken.gltf") -> Path:
    """The test scene with ``change(doc)`` applied."""
    doc, blob = scene()
    doc = json.loads(json.dumps(doc))
    change(doc)
    return write_gltf(tmp_path, doc, blob, name=name)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["accessors"][1].update(bufferView=-1), "accessor 1: bufferView index -1 is out of range"),
    (lambda d: d["nodes"][2].update(camera=-1), "camera index -1 is out of range"),
    (lambda d: d["bufferViews"][1].update(buffer=-1), "buffer index -1 is out of range"),
    (lambda d: d["animations"][0]["samplers"][0].update(input=-1), "input: accessor index -1 is out of range"),
    (lambda d: d["animations"][0]["channels"][0].update(sampler=-1), "sampler index -1 is out of range"),
    (lambda d: d["animations"][0]["channels"][0]["target"].update(node=-1), "target node index -1 is out of range"),
    (lambda d: d["nodes"][0].update(children=[-2]), "child index -2 is out of range"),
    (lambda d: d["nodes"][2].update(camera=1), "camera index 1 is out of range"),
    (lambda d: d["bufferViews"][1].update(byteStride=-12), "byteStride is not an integer >= 12"),
    (lambda d: d["bufferViews"][1].update(byteStride=4), "byteStride is not an integer >= 12"),
    (lambda d: d["accessors"][1].update(byteOffset=-4), "accessor 1: byteOffset is not an integer >= 0"),
    (lambda d: d["bufferViews"][1].update(byteOffset=-4), "bufferView byteOffset is not an integer >= 0"),
    (lambda d: d["accessors"][0].update(type="VEC3", count=1), "key times must be a SCALAR accessor"),
    (lambda d: d["accessors"][0].update(count=2.5), "count is not an integer >= 1"),
    (lambda d: d["nodes"][0].update(rotation=[0, 0, 0, 0]), "node 0 rotation is a zero quaternion"),
    (lambda d: d["nodes"][0].update(translation=[0, "up", 0]), "node 0 translation is not a numeric array"),
    (lambda d: d["nodes"][0].update(scale=[1, 1]), "node 0 scale has the wrong shape"),
    (lambda d: d["nodes"][0].update(matrix=[1e308] * 16), "node 1: its world transform overflows"),
    (lambda d: d["nodes"][0].update(rotation=[1e308, 1e308, 0, 0]), "node 0 rotation is too large to normalise"),
    (lambda d: d["cameras"][0]["perspective"].update(yfov=True), "camera yfov is not a finite number"),
], ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.filterwarnings("error")  # no RuntimeWarning (the zero quaternion used to divide by zero)
def test_out_of_range_and_ill_formed_fields_are_refused_by_name(tmp_path, change, message):
    with pytest.raises(FormatError, match=re.escape(message)):
        load(broken(tmp_path, change), fps=10)


@pytest.mark.filterwarnings("error")
def test_an_animated_zero_quaternion_is_refused(tmp_path):
    doc, blob = scene()
    values = np.frombuffer(blob, "<f4").copy()
    values[3 + 9: 3 + 9 + 4] = 0.0  # the first rotation key (after 3 times and 3 × 3 translations)
    with pytest.raises(FormatError, match="rotation key 0 is a zero quaternion"):
        load(write_gltf(tmp_path, doc, values.tobytes()), fps=10)


def test_non_finite_json_literals_are_refused(tmp_path):
    doc, blob = scene()
    path = write_gltf(tmp_path, doc, blob)
    path.write_text(path.read_text().replace('"translation": [0, 0, -3]', '"translation": [0, NaN, -3]'))
    with pytest.raises(FormatError, match="non-finite number in JSON"):
        load(path)


def test_percent_encoded_buffer_names_and_shared_buffer_files(tmp_path, monkeypatch):
    from trajkit.formats import gltf

    doc, blob = scene()
    (tmp_path / "My Scene.bin").write_bytes(blob)
    doc = json.loads(json.dumps(doc))
    doc["buffers"] = [{"uri": "My%20Scene.bin", "byteLength": len(blob)}] * 3  # Blender's spelling, named thrice
    for k, view in enumerate(doc["bufferViews"]):
        view["buffer"] = k
    path = tmp_path / "blender.gltf"
    path.write_text(json.dumps(doc))
    reads: list[Path] = []
    read_bytes = gltf.read_bytes
    monkeypatch.setattr(gltf, "read_bytes", lambda p, *a: reads.append(p) or read_bytes(p, *a))
    ents = load(path, fps=10)
    assert np.allclose(ents.poses[0, 20, :3, 3], [1, 0, 5], atol=1e-6)
    assert reads.count(tmp_path / "My Scene.bin") == 1
    for uri in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "%2E%2E", "a%5Cb.bin", "file%3A%2F%2Fx.bin"):
        doc["buffers"] = [{"uri": uri, "byteLength": len(blob)}] * 3
        path.write_text(json.dumps(doc))
        with pytest.raises(FormatError, match="plain file name"):
            load(path)


def test_a_gltf_is_detected_whatever_comes_first(tmp_path):
    doc, blob = scene()
    late = {"extras": {"note": "x" * 70_000}, **doc}  # "asset" after the 64 KB head
    path = write_gltf(tmp_path, late, blob, name="late.gltf")
    assert path.read_bytes().index(b'"asset"') > 65536
    assert detect(path).name == "gltf" and load(path, fps=10).num_frames == 21
