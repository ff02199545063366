"""Property-based robustness: every reader, fed garbage, answers with a TrajkitError or a valid object.

Random bytes, truncated and bit-flipped real files, NaN/inf injected into real JSON, arbitrary JSON
documents, and wrong shapes all go through ``trajkit.load``. Nothing may raise anything else, hang or
execute code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trajkit
from trajkit import CameraPath, EntityPaths, Tracks
from trajkit.formats import documents as docs
from trajkit.formats.registry import formats

DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()

VALID_TYPES = (Tracks, CameraPath, EntityPaths, docs.CameraSet, docs.AtiExamples, docs.CameraCaption,
               docs.LocationData, docs.TrajMasterTestSets, docs.PromptList)
READABLE = [f.name for f in formats() if f.read is not None]
EXTENSION = {f.name: f.extensions[0] for f in formats()}
SMALL_FILES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.stat().st_size < 100_000
                     and p.suffix in (".json", ".pth", ".npy", ".txt", ".yaml"))
FUZZ = settings(max_examples=int(os.environ.get("TRAJKIT_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def load_or_error(path: Path, **kw: object) -> object:
    """``trajkit.load`` that must either succeed with a valid type or raise a TrajkitError."""
    try:
        obj = trajkit.load(path, **kw)
    except trajkit.TrajkitError:
        return None
    assert isinstance(obj, VALID_TYPES) or type(obj).__name__ == "CharacterInfo", type(obj)
    return obj


@pytest.fixture
def scratch() -> Path:
    path = Path(tempfile.mkdtemp(prefix="trajkit-fuzz-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@FUZZ
@given(fmt=st.sampled_from(READABLE), blob=st.binary(max_size=2048))
def test_random_bytes(scratch: Path, fmt: str, blob: bytes) -> None:
    path = scratch / f"random{EXTENSION[fmt]}"
    path.write_bytes(blob)
    load_or_error(path, format=fmt)
    load_or_error(path)


@FUZZ
@given(src=st.sampled_from(SMALL_FILES), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_real_files(scratch: Path, src: Path, cut: float) -> None:
    data = src.read_bytes()
    path = scratch / src.name
    path.write_bytes(data[: int(len(data) * cut)])
    load_or_error(path)


@FUZZ
@given(src=st.sampled_from(SMALL_FILES), flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                                    st.integers(1, 255)), min_size=1, max_size=8))
def test_bit_flipped_real_files(scratch: Path, src: Path, flips: list[tuple[float, int]]) -> None:
    data = bytearray(src.read_bytes())
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    path = scratch / src.name
    path.write_bytes(bytes(data))
    load_or_error(path)


NUMBER = re.compile(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?")
JSON_FILES = [p for p in SMALL_FILES if p.suffix in (".json", ".txt") and NUMBER.search(p.read_text("utf-8"))]


@FUZZ
@given(src=st.sampled_from(JSON_FILES), which=st.floats(0, 1, exclude_max=True),
       bad=st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "nan", '"x"', "null", "[]"]))
def test_non_finite_values_injected(scratch: Path, src: Path, which: float, bad: str) -> None:
    text = src.read_text(encoding="utf-8")
    matches = list(NUMBER.finditer(text))
    m = matches[int(which * len(matches))]
    path = scratch / src.name
    path.write_text(text[: m.start()] + bad + text[m.end():], encoding="utf-8")
    obj = load_or_error(path)
    if obj is not None and bad in ("NaN", "Infinity", "-Infinity", "1e999", "-1e999", "nan"):
        # A value that survived must not be a non-finite number hidden in a control.
        for arr in (getattr(obj, "xy", None), getattr(obj, "c2w", None), getattr(obj, "poses", None)):
            if arr is not None:
                import numpy as np

                assert np.isfinite(arr).all()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["x", "y", "frames", "transform_matrix", "fl_x", "w", "h", "trajkit", "version", "xy",
                         "visible", "fps", "size", "c2w", "K", "0", "index", "matrix", "frame0", "cam01",
                         "C_01_35mm", "Movement", "CharacterInfo", "video_name"]), inner, max_size=6),
    max_leaves=30,
)


@FUZZ
@given(fmt=st.sampled_from([n for n in READABLE if EXTENSION[n] == ".json"]), doc=json_values)
def test_arbitrary_json_documents(scratch: Path, fmt: str, doc: object) -> None:
    path = scratch / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    load_or_error(path, format=fmt)
    load_or_error(path)


@FUZZ
@given(shape=st.lists(st.integers(0, 5), min_size=0, max_size=5), dtype=st.sampled_from(["<f4", "<f8", "<i8", "|b1"]))
def test_wrong_shapes_in_npy(scratch: Path, shape: list[int], dtype: str) -> None:
    import numpy as np

    path = scratch / "x_tracks.npy"
    np.save(path, np.zeros(shape, dtype=dtype))
    load_or_error(path)
