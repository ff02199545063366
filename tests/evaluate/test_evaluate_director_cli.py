"""`trajkit evaluate director`: GenDoP's four metrics from the command line, on a CLaTr and a CLIP text model written
by the test (random, tiny), for the embedded director on held-out synthetic shots."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_clatr_text import tiny_clip  # noqa: F401  (the tiny CLIP folder fixture)
from typer.testing import CliRunner

from trajkit.cli.main import app

pytest.importorskip("transformers")
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_clatr(tmp_path_factory, tiny_clip):  # noqa: F811
    from trajkit.evaluate.clatr import CLaTr, CLaTrConfig, save_clatr

    torch.manual_seed(0)
    width = tiny_clip[1].config.hidden_size
    model = CLaTr(CLaTrConfig(text_features=width, latent=16, ff=32, layers=1, heads=2)).eval()
    return save_clatr(model, tmp_path_factory.mktemp("clatr") / "clatr.safetensors")


def test_the_four_metrics_for_the_embedded_director(tiny_clatr, tiny_clip) -> None:  # noqa: F811
    args = ["evaluate", "director", "synthetic", "--clatr", str(tiny_clatr), "--clip", str(tiny_clip[0]),
            "--count", "20", "--greedy"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["samples"] == 20 and metrics["director"].endswith("embedded")
    assert 0 <= metrics["caption_fscore"] <= 1 and 0 <= metrics["coverage"] <= 1 and metrics["fcd"] >= 0
    assert np.isfinite(metrics["clatr_score"])
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "caption F-score" in table.stdout and "FCD" in table.stdout


def test_bad_clatr_checkpoints_and_too_few_shots_are_refused(tmp_path, tiny_clatr, tiny_clip) -> None:  # noqa: F811
    bad = tmp_path / "epoch99_motion.ckpt"
    bad.write_bytes(b"not a checkpoint")
    result = runner.invoke(app, ["evaluate", "director", "--clatr", str(bad), "--clip", str(tiny_clip[0]),
                                 "--count", "20"])
    assert result.exit_code == 1 and "epoch99_motion.ckpt" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["evaluate", "director", "--clatr", str(tiny_clatr), "--count", "5"])
    assert result.exit_code != 0 and "--count" in result.output
    # a folder named like the default subcommand's argument still reaches `evaluate jobs`
    result = runner.invoke(app, ["evaluate", str(tmp_path)])
    assert result.exit_code == 1 and "no job folders" in result.output
