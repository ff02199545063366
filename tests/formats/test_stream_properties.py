"""Properties of the memory-bounded readers (``TRAJKIT_FUZZ_EXAMPLES`` sets the examples; ``scripts/fuzz.sh``).

* The JSON footprint estimate that decides whether a document may be parsed is never below what
  ``json.loads`` really allocates, whatever the document.
* The streamed text readers (RealEstate10K, Tora) read the same camera / track whatever blank lines,
  whitespace-only lines, line endings (``\\n``, ``\\r\\n``, ``\\r``) and byte-order mark surround the rows;
  RealEstate10K timestamps that do not advance are named in a warning, and one Tora point is refused.
"""

from __future__ import annotations

import json
import os
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trajkit.core.errors import FormatError
from trajkit.formats import re10k, tora
from trajkit.formats._io import FormatWarning, json_footprint

DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
PROPERTY = settings(max_examples=int(os.environ.get("TRAJKIT_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(max_size=6), inner, max_size=8),
    max_leaves=60,
)


@PROPERTY
@given(value=json_values, ascii_only=st.booleans(), compact=st.booleans(), as_bytes=st.booleans())
def test_json_footprint_is_never_below_what_json_loads_allocates(value: object, ascii_only: bool, compact: bool,
                                                                 as_bytes: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":") if compact else None)
    doc: str | bytes = text.encode() if as_bytes else text
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        parsed = json.loads(doc)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert parsed == value or value != value  # (floats round-trip; a -0.0 key compares equal)
    assert peak <= json_footprint(doc), f"{peak} B allocated, {json_footprint(doc)} B estimated for {text[:80]!r}"


REAL_RE10K = (DATA / "formats/re10k/0bf152ef84195293.txt").read_text().splitlines()
blank = st.sampled_from(["", " ", "\t", "   \t  ", "\f", "\v"])
ending = st.sampled_from(["\n", "\r\n", "\r"])


def dress(lines: list[str], inserts: list[tuple[int, str]], end: str, bom: bool, last_end: bool) -> str:
    """``lines`` with blank lines inserted before the given positions, joined by ``end``."""
    out = list(lines)
    for where, line in sorted(inserts, reverse=True):
        out.insert(where % (len(out) + 1), line)
    return ("\ufeff" if bom else "") + end.join(out) + (end if last_end else "")


@PROPERTY
@given(rows=st.integers(1, len(REAL_RE10K) - 1), header=st.booleans(), frozen=st.booleans(),
       inserts=st.lists(st.tuples(st.integers(0, 40), blank), max_size=12), end=ending, bom=st.booleans(),
       last_end=st.booleans())
def test_re10k_reads_the_same_camera_whatever_surrounds_its_rows(tmp_path_factory, rows: int, header: bool,
                                                                 frozen: bool, inserts: list[tuple[int, str]],
                                                                 end: str, bom: bool, last_end: bool) -> None:
    folder = tmp_path_factory.mktemp("re10k")
    lines = REAL_RE10K[: rows + 1] if header else REAL_RE10K[1: rows + 1]
    if frozen:  # every timestamp 0: no frame rate in the file, and a warning that says so
        lines = [line if i == 0 and header else "0 " + line.split(" ", 1)[1] for i, line in enumerate(lines)]
    clean, dressed = folder / "clean.txt", folder / "dressed.txt"
    clean.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dressed.write_bytes(dress(lines, inserts, end, bom, last_end).encode("utf-8"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        want, got = re10k.read(clean), re10k.read(dressed)
    assert got.allclose(want, atol=0) and got.meta == want.meta and got.size == want.size
    named = [w for w in caught if issubclass(w.category, FormatWarning) and "timestamps" in str(w.message)]
    assert len(named) == (2 if frozen and rows > 1 else 0)
    stamps = [int(line.split()[0]) for line in lines if line[0].isdigit()]  # the dataset's, in µs
    assert got.fps == (re10k.FALLBACK_FPS if frozen or rows == 1
                       else pytest.approx((rows - 1) * 1e6 / (stamps[-1] - stamps[0])))


@PROPERTY
@given(points=st.lists(st.tuples(st.integers(-300, 600), st.integers(-300, 600)), min_size=1, max_size=40),
       spaced=st.booleans(), inserts=st.lists(st.tuples(st.integers(0, 60), blank), max_size=12), end=ending,
       bom=st.booleans(), last_end=st.booleans())
def test_tora_reads_the_same_track_whatever_surrounds_its_points(tmp_path_factory, points: list[tuple[int, int]],
                                                                 spaced: bool, inserts: list[tuple[int, str]],
                                                                 end: str, bom: bool, last_end: bool) -> None:
    path = tmp_path_factory.mktemp("tora") / "track.txt"
    lines = [f"{x}, {y}" if spaced else f"{x},{y}" for x, y in points]
    path.write_bytes(dress(lines, inserts, end, bom, last_end).encode("utf-8"))
    if len(points) == 1:  # one point is no trajectory
        with pytest.raises(FormatError, match="1 point"):
            tora.read(path)
        return
    track = tora.read(path)
    assert np.array_equal(track.xy[:, 0], np.array(points, dtype=np.float64))
    assert track.visible.all() and track.size == tora.CANVAS
