"""Every reader's peak memory on a large generated file: at most 4× the file and never above 1 GiB.

Each file is made of the format's real structure repeated until it reaches the target size (valid where the
format allows a file that large, else as far as the reader's limits let it go). It is read in a fresh child
process whose peak RSS is reset (``/proc/self/clear_refs``) just before ``trajkit.load``; the figure is the
peak above the RSS at that moment, so interpreter and imports are not counted, and whatever the reader
keeps (the returned object) is. A refusal is as good an answer as a result, but it must be just as frugal.

Smaller files are allowed a fixed :data:`~trajkit.formats._io.JSON_ALLOWANCE` on top of 4× (a 3 MB JSON
document may expand to 30 MB of Python objects); 4× the largest file any reader accepts is 1 GiB.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from trajkit.formats import _io
from trajkit.formats.registry import formats

MIB = 1024 * 1024
#: Size of the large files (above every JSON allowance, below the 256 MiB limit).
TARGET = 96 * MIB
#: Size of the small files (below every reader's own limit but the prompt list's).
SMALL = 3 * MIB
RATIO = 4.0
ABSOLUTE = 1024 * MIB
DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(),
                                reason="peak RSS is reset through Linux's /proc/self/clear_refs")

CHILD = textwrap.dedent("""
    import json, sys
    import trajkit
    from trajkit.formats.registry import formats
    formats()

    def kib(field):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(field))

    path, fmt, hints = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    hints = {k: tuple(v) if isinstance(v, list) else v for k, v in hints.items()}
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    start = kib("VmRSS:")
    try:
        obj = trajkit.load(path, format=fmt, **hints)
        outcome = "read " + type(obj).__name__
    except trajkit.TrajkitError as exc:
        outcome = "refused: " + str(exc)[:300]
    print(json.dumps({"peak": (kib("VmHWM:") - start) * 1024, "outcome": outcome}))
""")


def repeat(head: str, item: str, sep: str, tail: str, size: int) -> str:
    """``head + item (sep item)* + tail`` about ``size`` characters long."""
    n = max(1, (size - len(head) - len(tail)) // (len(item) + len(sep)))
    return head + sep.join([item] * n) + tail


def pose_rows(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` proper rotations (QR of random matrices) with translations, as (n, 3, 4)."""
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q *= np.sign(np.einsum("nii->ni", r))[:, None, :]
    q[np.linalg.det(q) < 0, :, 0] *= -1
    return np.concatenate([q, rng.normal(size=(n, 3, 1))], axis=2)


FMATRIX = "[0.951994 0.306116 0 0] [-0.306116 0.951994 0 0] [0 -0 1 0] [19030.7 -22801.6 147.103 1] "


def _re10k(path: Path, size: int) -> None:
    rng = np.random.default_rng(0)
    n = size // 230
    rows = pose_rows(n, rng).reshape(n, 12)
    intr = "0.474812461 0.844111024 0.500000000 0.500000000 0.000000000 0.000000000"
    with path.open("w") as fh:
        fh.write("https://www.youtube.com/watch?v=QShWPZxTDoE\n")
        body = np.char.mod("%.9f", rows)
        for i in range(n):
            fh.write(f"{i * 33367} {intr} {' '.join(body[i])}\n")


def _re10k_blank_lines(path: Path, size: int) -> None:
    """A real CameraCtrl pose file followed by blank lines (the issue's 2.8 GB case, scaled down)."""
    real = (DATA / "formats/re10k/0bf152ef84195293.txt").read_bytes()
    with path.open("wb") as fh:
        fh.write(real)
        fh.write(b"\n" * (size - len(real)))


def _tora(path: Path, size: int) -> None:
    path.write_text(repeat("", "123.456,78.901", "\n", "\n", size))


def _comfyui(path: Path, size: int) -> None:
    track = "[" + ", ".join(['{"x": 412.5, "y": 213.25}'] * 121) + "]"
    path.write_text(repeat("[", track, ", ", "]", size))


def _motionctrl(path: Path, size: int) -> None:
    row = json.dumps([round(float(x), 9) for x in pose_rows(1, np.random.default_rng(1))[0].ravel()])
    path.write_text(repeat("[", row, ", ", "]", size))


def _gendop(path: Path, size: int, nerfstudio: bool = False) -> None:
    m = np.eye(4)
    m[:3] = pose_rows(1, np.random.default_rng(2))[0]
    key = '"file_path": "images/frame_00001.png"' if nerfstudio else '"monst3r_im_id": 1'
    frame = f'{{"transform_matrix": {json.dumps(m.round(9).tolist())}, {key}}}'
    head = '{"w": 512, "h": 208, "fl_x": 642.345337, "fl_y": 642.345337, "cx": 256.0, "cy": 104.0, "frames": ['
    path.write_text(repeat(head, frame, ", ", "]}", size))


def _trajkit_json(path: Path, size: int) -> None:
    n = max(1, size // (121 * 20))
    frame = "[" + ", ".join(["[412.5, 213.25]"] * n) + "]"
    vis = "[" + ", ".join(["1"] * n) + "]"
    path.write_text('{"trajkit": "tracks", "version": 1, "fps": 16, "size": [832, 480], "meta": {}, "xy": ['
                    + ", ".join([frame] * 121) + '], "visible": [' + ", ".join([vis] * 121) + "]}")


def _tracks_array(size: int) -> np.ndarray:
    n = max(1, size // (121 * 8))
    return np.random.default_rng(3).uniform(0, 400, size=(121, n, 2)).astype(np.float32)


def _trajkit_npz(path: Path, size: int) -> None:
    xy = _tracks_array(size)
    header = json.dumps({"trajkit": "tracks", "version": 1, "fps": 16.0, "size": [832, 480], "meta": {}})
    with path.open("wb") as fh:
        np.savez(fh, __trajkit__=np.array(header), xy=xy, visible=np.ones(xy.shape[:2], bool))


def _wanmove(path: Path, size: int) -> None:
    np.save(path, _tracks_array(size)[None])


def _ati(path: Path, size: int) -> None:
    from trajkit.formats.ati_pth import MAX_ARRAY_BYTES, container_bytes

    n = min(size, MAX_ARRAY_BYTES - 4096) // (121 * 12)
    arr = np.random.default_rng(4).uniform(0, 4000, size=(n, 121, 1, 3)).astype(np.float32)
    arr[..., 2] = 8.0
    with open(path, "wb") as fh, io.BytesIO() as buf:
        np.savez_compressed(buf, array=arr)
        fh.write(container_bytes(buf.getvalue()))


def _trajmaster(path: Path, size: int) -> None:
    frame = "[" + ", ".join(f'{{"index": {k}, "matrix": "{FMATRIX}"}}' for k in range(3)) + "]"
    n = max(1, size // (len(frame) + 12))
    path.write_text("{" + ", ".join(f'"{t}": {frame}' for t in range(n)) + "}")


def _rig(path: Path, size: int) -> None:
    n = max(1, size // (len(FMATRIX) + 20))
    path.write_text("{" + ", ".join(f'"C_{k:02d}_35mm": "{FMATRIX}"' for k in range(n)) + "}")


def _recammaster(path: Path, size: int) -> None:
    cams = "{" + ", ".join(f'"cam{c:02d}": "{FMATRIX}"' for c in range(1, 11)) + "}"
    n = max(1, size // (len(cams) + 14))
    path.write_text("{" + ", ".join(f'"frame{t}": {cams}' for t in range(n)) + "}")


def _locations(path: Path, size: int) -> None:
    item = '{"name": "loc%d", "coordinates": {"CameraTarget": {"position": [1.5, -2.5, 147.103]}}, "Height": "H10"}'
    n = max(1, size // (len(item) + 8))
    path.write_text("[" + ", ".join(item % k for k in range(n)) + "]")


def _testsets(path: Path, size: int) -> None:
    case = '{"video_name": "D_loc1_66_t1n36_0042_Hemi12_1", "entity_prompts": ["a fire spirit"], "loc_prompt": "park"}'
    n = max(1, size // (len(case) + 12))
    path.write_text("{" + ", ".join(f'"{k}": {case}' for k in range(n)) + "}")


def _characters(path: Path, size: int) -> None:
    n = max(1, size // 50)
    path.write_text('{"CharacterInfo": [' + ", ".join(f'{{"index": {k}, "eng": "a fox"}}' for k in range(n)) + "]}")


def _caption(path: Path, size: int) -> None:
    path.write_text(json.dumps({"Movement": "The camera pans right. " * (size // 24), "Concise Interaction": "x"}))


def _prompts(path: Path, size: int) -> None:
    path.write_text(repeat("[", "'a fire spirit with long flames'", ", ", "]", size))


def _examples(path: Path, size: int) -> None:
    path.write_text("".join(f"- image: images/missing{k}.jpg\n  text: a koi pond\n  track: tracks/t{k}.pth\n"
                            for k in range(size // 64)))


def _gltf(path: Path, size: int) -> None:
    keys = min(size // 32, 1_000_000)
    times = np.linspace(0, 3000, keys, dtype=np.float32)  # 90 001 frames at 30 fps, within the reader's limits
    moves = np.random.default_rng(5).normal(size=(keys, 3)).astype(np.float32)
    blob = times.tobytes() + moves.tobytes()
    doc = {"asset": {"version": "2.0"}, "nodes": [{"name": "fox"}],
           "buffers": [{"byteLength": len(blob)}],
           "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": times.nbytes},
                           {"buffer": 0, "byteOffset": times.nbytes, "byteLength": moves.nbytes}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": keys, "type": "SCALAR",
                          "min": [0.0], "max": [float(times[-1])]},
                         {"bufferView": 1, "componentType": 5126, "count": keys, "type": "VEC3"}],
           "animations": [{"samplers": [{"input": 0, "output": 1}],
                           "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]}]}
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    blob += b"\0" * max(0, size - len(blob) - len(text))  # padding a real exporter could leave
    blob += b"\0" * (-len(blob) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    path.write_bytes(b"glTF" + struct.pack("<II", 2, total) + struct.pack("<II", len(text), 0x4E4F534A) + text
                     + struct.pack("<II", len(blob), 0x004E4942) + blob)


#: format → (file name, generator, hints)
CASES: dict[str, tuple[str, Callable[[Path, int], None], dict[str, object]]] = {
    "re10k-txt": ("poses.txt", _re10k, {}),
    "re10k-txt/blank-lines": ("poses.txt", _re10k_blank_lines, {}),
    "tora-txt": ("track.txt", _tora, {}),
    "comfyui-json": ("tracks.json", _comfyui, {}),
    "motionctrl-json": ("poses.json", _motionctrl, {}),
    "gendop-json": ("transforms.json", _gendop, {}),
    "nerfstudio-json": ("transforms.json", lambda p, s: _gendop(p, s, nerfstudio=True), {}),
    "trajkit-json": ("tracks.json", _trajkit_json, {}),
    "trajkit-npz": ("tracks.npz", _trajkit_npz, {}),
    "wanmove-npy": ("x_tracks.npy", _wanmove, {}),
    "ati-pth": ("tracks.pth", _ati, {"size": [832, 480]}),
    "trajmaster-json": ("D_loc1_61_t3n13_003d_Hemi12_1.json", _trajmaster, {"offset_cm": [0, 0, 0],
                                                                           "camera": 0}),
    "trajmaster-rig": ("Hemi12_transforms.json", _rig, {}),
    "recammaster-json": ("camera_extrinsics.json", _recammaster, {}),
    "trajmaster-locations": ("location_data.json", _locations, {}),
    "trajmaster-testsets": ("test_sets.json", _testsets, {}),
    "trajmaster-characters": ("CharacterInfo.json", _characters, {}),
    "gendop-caption": ("caption.json", _caption, {}),
    "prompt-list": ("entity_zoo.txt", _prompts, {}),
    "ati-examples": ("test.yaml", _examples, {}),
    "gltf": ("scene.glb", _gltf, {}),
}


def peak_of_reading(path: Path, fmt: str, hints: dict[str, object]) -> tuple[int, str]:
    """(peak bytes above the RSS before ``trajkit.load``, what happened) in a fresh child process."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), fmt.split("/")[0], json.dumps(hints)],
                         capture_output=True, text=True, check=True, timeout=600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return int(result["peak"]), str(result["outcome"])


def measure(tmp_path: Path, case: str, target: int) -> tuple[int, int, str]:
    """(file size, peak, outcome) of reading a generated file of about ``target`` bytes."""
    name, make, hints = CASES[case]
    path = tmp_path / name
    make(path, target)
    size = path.stat().st_size
    peak, outcome = peak_of_reading(path, case, hints)
    print(f"{case}: {size / MIB:.1f} MiB file, peak {peak / MIB:.1f} MiB ({peak / size:.2f}×); {outcome[:100]}")
    return size, peak, outcome


@pytest.mark.parametrize("case", sorted(CASES))
def test_peak_memory_of_each_reader_is_at_most_4x_a_large_file(tmp_path: Path, case: str) -> None:
    size, peak, outcome = measure(tmp_path, case, TARGET)
    assert peak <= RATIO * size, f"{case}: peak {peak / MIB:.0f} MiB is {peak / size:.1f}× the file; {outcome}"
    assert peak <= ABSOLUTE


@pytest.mark.parametrize("case", sorted(CASES))
def test_peak_memory_of_each_reader_on_a_small_file(tmp_path: Path, case: str) -> None:
    size, peak, outcome = measure(tmp_path, case, SMALL)
    bound = RATIO * size + _io.JSON_ALLOWANCE
    assert peak <= bound, f"{case}: peak {peak / MIB:.0f} MiB > 4 × {size / MIB:.1f} MiB + allowance; {outcome}"


def test_the_file_limit_keeps_every_read_under_1_gib(tmp_path: Path) -> None:
    assert {f.name for f in formats() if f.read is not None} == {case.split("/")[0] for case in CASES}
    assert RATIO * _io.MAX_FILE_BYTES <= ABSOLUTE  # so 4× any accepted file is at most 1 GiB
    for case in ("re10k-txt", "gendop-json", "trajkit-npz", "gltf"):
        name, _, hints = CASES[case]
        path = tmp_path / name
        with path.open("wb") as fh:  # sparse: nothing is written, nothing may be read
            fh.truncate(_io.MAX_FILE_BYTES + 1)
        peak, outcome = peak_of_reading(path, case, hints)
        assert outcome.startswith("refused") and "file too large" in outcome
        assert peak < 16 * MIB, f"{case}: {peak / MIB:.0f} MiB to refuse a file by its size"


def test_a_list_naming_one_track_file_many_times_reads_it_once(tmp_path: Path) -> None:
    # 100 entries, one 6 MB track file: held once it is ≈ 6 MB of tracks, held per entry it would be 600 MB.
    from trajkit.formats.ati_pth import container_bytes

    arr = np.random.default_rng(7).uniform(0, 4000, size=(5000, 121, 1, 3)).astype(np.float32)
    with io.BytesIO() as buf:
        np.savez_compressed(buf, array=arr)
        (tmp_path / "big.pth").write_bytes(container_bytes(buf.getvalue()))
    entry = f"- image: {DATA / 'ati/images/fish.jpg'}\n  text: koi\n  track: big.pth\n"
    (tmp_path / "test.yaml").write_text(entry * 100)
    content = (tmp_path / "big.pth").stat().st_size + (tmp_path / "test.yaml").stat().st_size
    peak, outcome = peak_of_reading(tmp_path / "test.yaml", "ati-examples", {})
    assert outcome == "read AtiExamples"
    assert peak <= RATIO * content + _io.JSON_ALLOWANCE, f"{peak / MIB:.0f} MiB for {content / MIB:.1f} MiB of files"


def test_re10k_refuses_rows_past_its_limit_as_it_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trajkit.core.errors import FormatError
    from trajkit.formats import re10k

    path = tmp_path / "poses.txt"
    path.write_bytes((DATA / "formats/re10k/0bf152ef84195293.txt").read_bytes() + b"\n" * 1000)
    monkeypatch.setattr(re10k, "MAX_ROWS", 16)  # the file has 16 rows: at the limit, then past it
    assert re10k.read(path).num_frames == 16
    monkeypatch.setattr(re10k, "MAX_ROWS", 15)
    with pytest.raises(FormatError, match=r"too many pose rows; expected at most 15, found more \(line 17\)"):
        re10k.read(path)
