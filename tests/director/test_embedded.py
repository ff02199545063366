"""The director shipped inside the package: present, small, offline, and following prompts."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from trajkit.cli.main import app
from trajkit.director.pipeline import GREEDY, DirectorPipeline, embedded_checkpoint, tagged_fscore
from trajkit.director.synthetic import synthetic_shots
from trajkit.director.tagging import tag

#: A seed the embedded director never trained on (training used 0; its own held-out set 1000003).
HELD_OUT_SEED = 20261121


def test_embedded_weights_ship_with_the_package():
    folder = embedded_checkpoint()
    weights = folder / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size < 8 * 2**20
    config = json.loads((folder / "config.json").read_text())
    assert config["text_encoder"] == "minilm" and config["token_offset"] == 3


def test_embedded_director_reaches_the_caption_fscore_on_held_out_shots():
    pipe = DirectorPipeline.load()
    shots = list(synthetic_shots(150, HELD_OUT_SEED))
    scores = tagged_fscore(pipe, [s.caption for s in shots], [s.camera for s in shots], options=GREEDY)
    assert scores["samples"] >= 145
    assert scores["fscore"] >= 0.8, scores


def test_direct_follows_a_prompt_outside_the_synthetic_grammar(tmp_path):
    result = CliRunner().invoke(app, ["direct", "slowly push in on the subject", "--greedy", "-o",
                                      str(tmp_path / "push.json"), "--json"])
    assert result.exit_code == 0, result.output
    segments = json.loads(result.stdout)["paths"][0]["segments"]
    assert [s["name"] for s in segments] == ["move forward"]
    pipe = DirectorPipeline.load()
    camera = pipe("the camera glides to the right and turns left", options=GREEDY)[0]
    assert [s.name for s in tag(camera)] == ["move right + yaw left"]
