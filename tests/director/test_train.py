"""`trajkit train director`: synthetic and DataDoP data, checkpoints that load, exact resumption."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from trajkit.core.errors import TrajkitError
from trajkit.director.checkpoint import load_director
from trajkit.director.data import datadop_folder, synthetic_set
from trajkit.director.model import DirectorConfig
from trajkit.director.pipeline import DirectorPipeline, tagged_fscore
from trajkit.director.train import TrainOptions, lr_factor, train_director

TINY = dict(hidden=32, layers=1, heads=2, ffn=64, poses=8, batch_size=16, held_out=8, synthetic=48, threads=2)


def test_gendop_schedule():
    assert lr_factor(0, 100) == pytest.approx(1.0)
    assert lr_factor(50, 100) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(100, 100) == pytest.approx(0.1) and lr_factor(500, 100) == pytest.approx(0.1)
    # GenDoP: a 1000-epoch cosine stopped after 100 epochs ends near 0.978
    assert lr_factor(100, 1000) == pytest.approx(0.978, abs=1e-3)


def test_training_writes_a_loadable_director_and_resumes_exactly(tmp_path):
    quiet = lambda s: None  # noqa: E731
    straight = train_director(TrainOptions(output=tmp_path / "a", epochs=2, schedule_epochs=2, **TINY), log=quiet)
    assert len(straight["losses"]) == 2 and straight["held_out_caption_fscore"]["samples"] == TINY["held_out"]
    # the reported score is the saved director's: reloading it and scoring the same held-out shots agrees
    held = synthetic_set(TINY["held_out"], 1_000_003)
    assert tagged_fscore(DirectorPipeline.load(tmp_path / "a"), held.captions, held.cameras) == \
        straight["held_out_caption_fscore"]
    model = load_director(tmp_path / "a")
    assert model.config.hidden == 32 and model.config.poses == 8 and model.config.token_offset == 3
    assert (tmp_path / "a" / "best" / "model.safetensors").is_file()

    train_director(TrainOptions(output=tmp_path / "b", epochs=1, schedule_epochs=2, **TINY), log=lambda s: None)
    with pytest.raises(TrajkitError, match="already holds a training run"):
        train_director(TrainOptions(output=tmp_path / "b", epochs=2, schedule_epochs=2, **TINY), log=lambda s: None)
    with pytest.raises(TrajkitError, match="hidden was 32"):
        train_director(TrainOptions(output=tmp_path / "b", epochs=2, schedule_epochs=2, resume=True,
                                    **(TINY | {"hidden": 48})), log=lambda s: None)
    with pytest.raises(TrajkitError, match="batch_size was 16, now 8; seed was 0, now 1"):
        train_director(TrainOptions(output=tmp_path / "b", epochs=2, schedule_epochs=2, resume=True,
                                    **(TINY | {"batch_size": 8}), seed=1), log=lambda s: None)
    resumed = train_director(TrainOptions(output=tmp_path / "b", epochs=2, schedule_epochs=2, resume=True, **TINY),
                             log=lambda s: None)
    assert resumed["losses"] == pytest.approx(straight["losses"], rel=1e-6)
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    assert json.loads((tmp_path / "b" / "trainer.json").read_text())["progress"]["epoch"] == 2


def test_resume_reads_a_broken_trainer_state_as_an_error(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "trainer.json").write_text('{"options": {')
    with pytest.raises(TrajkitError, match=r"trainer\.json"):
        train_director(TrainOptions(output=tmp_path / "run", resume=True, **TINY), log=lambda s: None)


def test_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "run").write_text("")
    with pytest.raises(TrajkitError, match="is a file"):
        train_director(TrainOptions(output=tmp_path / "run", **TINY), log=lambda s: None)


@pytest.mark.parametrize("field", ["hidden", "heads", "layers", "ffn", "poses", "text_tokens", "threads"])
def test_sizes_below_one_are_refused(tmp_path, field):
    with pytest.raises(ValueError, match=field):
        TrainOptions(output=tmp_path, **{field: 0})


def test_director_config_refuses_zero_heads():
    with pytest.raises(TrajkitError, match="heads: expected ≥ 1, found 0"):
        DirectorConfig(hidden=32, heads=0)


def test_text_features_are_cached_per_tokenizer():
    data = synthetic_set(4, 0)
    previous = TrainOptions(output=".", **TINY).director_config()
    first = replace(previous, relative_to="first")
    assert previous.relative_to == "previous"
    assert not torch.equal(data.tensors(previous).ids, data.tensors(first).ids)
    assert data.tensors(first) is data.tensors(replace(first, notes={"other": 1}))  # same tokenizer, same cache


@pytest.fixture
def datadop_tree(tmp_path, data_dir) -> Path:
    """A DataDoP-layout folder made from GenDoP's three example shots (plus one broken shot)."""
    root = tmp_path / "DataDoP"
    source = data_dir / "gendop" / "text_rgbd"
    names = []
    for i in (1, 2, 3):
        video = root / "train" / f"video{i}"
        video.mkdir(parents=True)
        for suffix in ("_transforms_cleaning.json", "_caption.json"):
            shutil.copy(source / f"case{i}{suffix}", video / f"shot{i}{suffix}")
        names.append(f"video{i}/shot{i}")
    broken = root / "train" / "video4"
    broken.mkdir()
    (broken / "shot4_transforms_cleaning.json").write_text('{"w": 512, "frames": [')
    names.append("video4/shot4")
    (root / "train_valid.txt").write_text("\n".join(names) + "\n")
    return root


def test_datadop_folders_are_read_and_bad_shots_reported(datadop_tree):
    lines = []
    data = datadop_folder(datadop_tree, "Movement", log=lines.append)
    assert len(data) == 3 and data.captions[0].startswith("The camera moves right while yawing left")
    assert data.cameras[0].num_frames == 120
    assert any("shot4" in line for line in lines)
    concise = datadop_folder(datadop_tree, "Concise Interaction", log=lines.append)
    assert concise.captions[0] != data.captions[0]
    with pytest.raises(TrajkitError, match="caption key"):
        datadop_folder(datadop_tree, "Motion")
    with pytest.raises(TrajkitError, match="not a folder"):
        datadop_folder(datadop_tree / "missing")


def test_training_on_a_datadop_folder(tmp_path, datadop_tree):
    options = TrainOptions(output=tmp_path / "run", data=str(datadop_tree), epochs=1,
                           **(TINY | {"batch_size": 2, "poses": 30}))
    metrics = train_director(options, log=lambda s: None)
    assert len(metrics["losses"]) == 1 and "held_out_caption_fscore" not in metrics
    assert load_director(tmp_path / "run").config.caption_key == "Movement"
