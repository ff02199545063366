"""trajkit's native JSON/NPZ: lossless round trips of all three types, versioning, bad documents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit import CameraPath, EntityPaths, Tracks
from trajkit.core.camera import intrinsics_matrix
from trajkit.core.rotations import axis_angle_to_matrix


def sample_objects() -> list:
    rng = np.random.default_rng(3)
    tracks = Tracks(xy=rng.normal(size=(7, 4, 2)) * 300, visible=rng.random((7, 4)) > 0.5, size=(640, 360), fps=16,
                    meta={"note": "ünïcode"})
    c2w = np.tile(np.eye(4), (5, 1, 1))
    c2w[:, :3, :3] = axis_angle_to_matrix(rng.normal(size=(5, 3)))
    c2w[:, :3, 3] = rng.normal(size=(5, 3))
    Ks = np.stack([intrinsics_matrix(400 + i, 410, 320, 180) for i in range(5)])
    camera = CameraPath(c2w=c2w, K=Ks, size=(640, 360), fps=10, metric=True)
    poses = np.tile(c2w[None], (2, 1, 1, 1))
    entities = EntityPaths(poses=poses, prompts=["a red car", "a dog"], fps=10, camera=camera, meta={"k": [1, 2]})
    return [tracks, camera, entities, tracks.replace(size=None), entities.with_camera(None)]


@pytest.mark.parametrize("suffix", [".json", ".npz"])
@pytest.mark.parametrize("index", range(5))
def test_lossless_round_trip(tmp_path: Path, suffix: str, index: int) -> None:
    obj = sample_objects()[index]
    path = tmp_path / f"obj{suffix}"
    trajkit.save(obj, path)
    back = trajkit.load(path)
    assert type(back) is type(obj)
    assert back.allclose(obj, atol=0)
    assert dict(back.meta) == dict(obj.meta)


def test_json_document_layout(tmp_path: Path) -> None:
    tracks = sample_objects()[0]
    trajkit.save(tracks, tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["trajkit"] == "tracks" and doc["version"] == 1 and doc["size"] == [640, 360]
    assert np.array(doc["xy"]).shape == (7, 4, 2) and set(np.unique(doc["visible"])) <= {0, 1}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(version=99), "version"),
        (lambda d: d.update(trajkit="video"), "kind"),
        (lambda d: d.pop("xy"), "xy"),
        (lambda d: d.update(xy=[[[1, 2, 3]]]), "xy"),
        (lambda d: d.update(fps=-1), "fps"),
        (lambda d: d.update(meta=[1]), "meta"),
    ],
)
def test_bad_documents(tmp_path: Path, edit, message: str) -> None:
    tracks = sample_objects()[0]
    trajkit.save(tracks, tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text())
    edit(doc)
    (tmp_path / "t.json").write_text(json.dumps(doc))
    with pytest.raises(trajkit.TrajkitError, match=message):
        trajkit.load(tmp_path / "t.json")


def test_nan_in_json_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "n.json"
    f.write_text('{"trajkit": "tracks", "version": 1, "fps": 8, "size": null, "xy": [[[NaN, 1]]], "visible": [[1]]}')
    with pytest.raises(trajkit.FormatError, match="non-finite"):
        trajkit.load(f)


def test_failed_write_keeps_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.json"
    path.write_text("precious")
    bad = sample_objects()[0].replace(meta={"x": object()})  # not JSON-serialisable
    with pytest.raises(TypeError):
        trajkit.save(bad, path)
    assert path.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]  # no temporary file left behind
