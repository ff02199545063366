"""`trajkit direct` and `trajkit train director` from the command line."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from gendop_reference import (
    gendop_state_dict,
    tiny_clip_text_encoder,
    write_gendop_checkpoint,
    write_tiny_clip_tokenizer,
)
from typer.testing import CliRunner

from trajkit.cli.main import app
from trajkit.director.checkpoint import save_director
from trajkit.director.model import Director, DirectorConfig
from trajkit.formats.registry import load

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_director(tmp_path_factory):
    torch.manual_seed(0)
    config = DirectorConfig(hidden=32, heads=2, layers=1, ffn=64, positions=100, text_encoder="minilm", text_tokens=24,
                            poses=8, slots=(0, 1, 2, 3, 4, 5, 6, 9), token_offset=3)
    return save_director(Director(config).eval(), tmp_path_factory.mktemp("director") / "tiny")


def test_direct_writes_gendop_json_plots_and_reports_tags(tmp_path, tiny_director):
    out = tmp_path / "cam.json"
    result = runner.invoke(app, ["direct", "the camera pans left", "-c", str(tiny_director), "-o", str(out),
                                 "--num", "3", "--seed", "5", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [p["file"] for p in report["paths"]] == [str(tmp_path / f"cam_{i}.json") for i in range(3)]
    first = json.loads((tmp_path / "cam_0.json").read_text())
    assert len(first["frames"]) == 120 and {"fl_x", "fl_y", "w", "h"} <= first.keys()
    assert (tmp_path / "cam_0.png").is_file()
    cameras = [load(tmp_path / f"cam_{i}.json") for i in range(3)]
    assert not np.allclose(cameras[0].c2w, cameras[1].c2w)  # different samples
    again = tmp_path / "again.json"
    result = runner.invoke(app, ["direct", "the camera pans left", "-c", str(tiny_director), "-o", str(again),
                                 "--num", "3", "--seed", "5", "--json", "--no-plot", "--to", "trajkit-json"])
    assert result.exit_code == 0, result.output
    assert np.allclose(load(tmp_path / "again_2.json").c2w, cameras[2].c2w, atol=1e-6)  # same seed, same paths
    assert not (tmp_path / "again_0.png").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["direct", "", "-o", "x.json"], "prompt 1 is empty"),
    (["direct", "the camera " + "moves left then right " * 10], "word pieces long"),
    (["direct", "pan left", "--to", "mp4"], "--to: expected gendop-json or trajkit-json"),
    (["direct", "pan left", "--size", "12"], "--size"),
    (["direct", "pan left", "--device", "foo"], "device 'foo': expected cpu, cuda, cuda:N or mps"),
    (["direct", "pan left", "--device", "cuda:99"], "device 'cuda:99': this torch build sees"),
    (["direct", "pan left", "--image", "missing.png"], "is not a readable image"),
])
def test_direct_rejects_bad_input(tmp_path, tiny_director, args, message):
    result = runner.invoke(app, [*args, "-c", str(tiny_director), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(("command", "module"), [
    ("direct", "trajkit.director.pipeline"), ("direct", "transformers"),
    ("train", "trajkit.director.train"), ("train", "accelerate"),
])
def test_director_commands_name_the_extra_when_it_is_missing(tmp_path, monkeypatch, command, module):
    monkeypatch.setitem(sys.modules, module, None)  # importing it fails as if it were not installed
    args = ["direct", "pan left"] if command == "direct" else ["train", "director"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "pip install 'trajkit[director]'" in result.output and module in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--heads", "0"], "field 'heads'"),
    (["--threads", "-1"], "field 'threads'"),
    (["--hidden", "30", "--heads", "4"], "hidden: expected a multiple of heads (4), found 30"),
])
def test_train_director_rejects_bad_options(tmp_path, args, message):
    result = runner.invoke(app, ["train", "director", "-o", str(tmp_path / "run"), "--synthetic", "16",
                                 "--held-out", "0", "--epochs", "1", *args])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert message in " ".join(result.output.split())


def test_train_director_refuses_a_file_as_output(tmp_path):
    target = tmp_path / "run.json"
    target.write_text("{}")
    result = runner.invoke(app, ["train", "director", "-o", str(target)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "is a file" in result.output


def test_direct_names_checkpoint_problems(tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"junk")
    result = runner.invoke(app, ["direct", "pan left", "-c", str(bad), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "not a readable safetensors file" in result.output
    state = gendop_state_dict(hidden=32, heads=4, layers=1, ffn=64, positions=400, text_width=32)
    gendop = write_gendop_checkpoint(tmp_path / "text_motion.safetensors", state,
                                     text_encoder_state=tiny_clip_text_encoder(hidden_size=32).state_dict())
    result = runner.invoke(app, ["direct", "pan left", "-c", str(gendop), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "--tokenizer" in result.output
    result = runner.invoke(app, ["direct", "pan left", "-c", str(gendop), "--tokenizer", str(tmp_path / "nope"),
                                 "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "does not exist" in " ".join(result.output.split())


@pytest.mark.parametrize("boost", [256, 259])
def test_gendop_text_checkpoint_drives_direct_and_its_token_offset_is_detected(tmp_path, boost):
    from trajkit.director.pipeline import DirectorPipeline, first_token_offset

    state = gendop_state_dict(hidden=32, heads=4, layers=1, ffn=64, positions=400, text_width=32, dtype=torch.float32)
    # the first generated token of a real checkpoint is the identity quaternion's w: bin 256 at id 256 or 259
    state["mesh_decoder.lm_head.weight"][boost] *= 0
    state["mesh_decoder.lm_head.weight"][boost] += 50 * state["mesh_decoder.model.layers.0.final_layer_norm.bias"]
    encoder = tiny_clip_text_encoder(hidden_size=32)
    path = write_gendop_checkpoint(tmp_path / "text_motion.safetensors", state, text_encoder_state=encoder.state_dict())
    tokenizer = write_tiny_clip_tokenizer(tmp_path / "tokenizer")
    pipe = DirectorPipeline.load(path, tokenizer=tokenizer)
    assert first_token_offset(pipe, "pan left") == (0 if boost == 256 else 3)
    result = runner.invoke(app, ["direct", "pan left", "-c", str(path), "--tokenizer", str(tokenizer), "--greedy",
                                 "-o", str(tmp_path / "cam.json"), "--json", "--no-plot"])
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "cam.json").read_text())["frames"]) == 120
    # a prompt beyond CLIP's 77 positions is refused, not truncated
    result = runner.invoke(app, ["direct", "pan left " * 20, "-c", str(path), "--tokenizer", str(tokenizer),
                                 "-o", str(tmp_path / "long.json")])
    assert result.exit_code == 1 and "CLIP tokens long" in result.output
    # a tokenizer whose vocabulary is not the encoder's is a mismatch
    small = write_tiny_clip_tokenizer(tmp_path / "small", size=900)
    result = runner.invoke(app, ["direct", "pan left", "-c", str(path), "--tokenizer", str(small),
                                 "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "tokenizer mismatch" in " ".join(result.output.split())


def test_heads_of_a_gendop_checkpoint_are_set_from_the_command_line(tmp_path):
    """A GenDoP file cannot say its head counts (issue 17 item 5): --heads/--encoder-heads give them. With the
    right counts the CLI writes exactly the path the pipeline computes with them; the default (8) attends otherwise."""
    from trajkit.director.pipeline import GREEDY, DirectorPipeline

    state = gendop_state_dict(hidden=32, heads=4, layers=1, ffn=64, positions=400, text_width=32, dtype=torch.float32)
    path = write_gendop_checkpoint(tmp_path / "text_motion.safetensors", state,
                                   text_encoder_state=tiny_clip_text_encoder(hidden_size=32).state_dict())
    tokenizer = write_tiny_clip_tokenizer(tmp_path / "tokenizer")
    common = ["direct", "pan left", "-c", str(path), "--tokenizer", str(tokenizer), "--greedy", "--token-offset", "0",
              "--no-plot", "--to", "trajkit-json"]
    assert runner.invoke(app, [*common, "--heads", "4", "--encoder-heads", "4", "-o", str(tmp_path / "a.json")]
                         ).exit_code == 0
    assert runner.invoke(app, [*common, "-o", str(tmp_path / "b.json")]).exit_code == 0
    pipe = DirectorPipeline.load(path, tokenizer=tokenizer, token_offset=0, heads=4, encoder_heads=4)
    expected = pipe("pan left", num=1, seed=0, options=GREEDY)[0]
    right, default = load(tmp_path / "a.json"), load(tmp_path / "b.json")
    np.testing.assert_allclose(right.c2w, expected.c2w, atol=1e-5)
    assert not np.allclose(default.c2w, expected.c2w, atol=1e-3)
    bad = runner.invoke(app, [*common, "--heads", "5", "-o", str(tmp_path / "c.json")])
    assert bad.exit_code == 1 and "heads" in bad.output and not (tmp_path / "c.json").exists()
