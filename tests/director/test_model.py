"""The director's decoder against an independent computation of GenDoP's architecture, GenDoP-layout
checkpoints (tiny, random, written in the test) and batched KV-cache sampling."""

from __future__ import annotations

import json

import pytest
import torch
from gendop_reference import (
    gendop_state_dict,
    reference_logits,
    tiny_clip_text_encoder,
    tiny_clip_vision_encoder,
    write_gendop_checkpoint,
)
from safetensors.torch import load_file, save_file

from trajkit.director.checkpoint import CheckpointError, load_director, save_director
from trajkit.director.model import Director, DirectorConfig
from trajkit.director.sampling import SamplingOptions, coordinate_ids, sample_tokens

TEXT_WIDTH = 48
POSITIONS = 400  # ≥ 77 text tokens + BOS + 300 coordinates + EOS


@pytest.fixture
def text_checkpoint(tmp_path):
    state = gendop_state_dict(hidden=32, heads=4, layers=2, ffn=64, positions=POSITIONS, text_width=TEXT_WIDTH, seed=3)
    encoder = tiny_clip_text_encoder(seed=4, hidden_size=TEXT_WIDTH)
    path = write_gendop_checkpoint(tmp_path / "text_motion.safetensors", state, text_encoder_state=encoder.state_dict())
    return path, state, encoder


def test_gendop_text_checkpoint_logits_equal_an_independent_computation(text_checkpoint):
    path, state, encoder = text_checkpoint
    model = load_director(path, heads=4, encoder_heads=4, dtype=torch.float64)
    assert model.config.cond_mode == "text" and model.config.layers == 2 and model.config.positions == POSITIONS
    assert model.config.token_offset == 0 and model.config.caption_key == "Movement"
    input_ids = torch.randint(0, 1000, (2, 77), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        features = encoder.double()(input_ids=input_ids).last_hidden_state
        # the fine-tuned text tower inside the checkpoint is the one that was written
        ours = model.text_encoder(input_ids=input_ids).last_hidden_state
        torch.testing.assert_close(ours, features, rtol=0, atol=1e-12)
        ids = torch.cat([torch.ones(2, 1, dtype=torch.long),
                         torch.randint(3, 260, (2, 40), generator=torch.Generator().manual_seed(1))], dim=1)
        expected = reference_logits(state, features, ids, heads=4)
        got = model(features, ids)
    assert got.shape == (2, 77 + 41, 260)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)


def test_gendop_rgbd_checkpoint_logits_equal_an_independent_computation(tmp_path):
    state = gendop_state_dict(hidden=32, heads=4, layers=3, ffn=64, positions=POSITIONS + 20,
                              cond_mode="depth+image+text", text_width=TEXT_WIDTH, image_width=40, seed=5)
    text = tiny_clip_text_encoder(seed=6, hidden_size=TEXT_WIDTH)
    image, depth = tiny_clip_vision_encoder(7), tiny_clip_vision_encoder(8)
    for name, tower in (("image_encoder", image), ("depth_encoder", depth)):
        state |= {f"{name}.vision_model.{k}": v for k, v in tower.state_dict().items()}
    path = write_gendop_checkpoint(tmp_path / "text_rgbd.safetensors", state, text_encoder_state=text.state_dict())
    model = load_director(path, heads=4, encoder_heads=4, dtype=torch.float64)
    assert model.config.cond_mode == "depth+image+text" and model.config.caption_key == "Concise Interaction"
    assert model.config.condition_tokens == 77 + 5 + 5
    pixels = torch.rand(1, 3, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(model.depth_encoder(pixel_values=pixels).last_hidden_state,
                                   depth.double()(pixel_values=pixels).last_hidden_state, rtol=0, atol=1e-12)
        gen = torch.Generator().manual_seed(2)
        cond = {"text": torch.randn(1, 77, TEXT_WIDTH, generator=gen, dtype=torch.float64),
                "image": torch.randn(1, 5, 40, generator=gen, dtype=torch.float64),
                "depth": torch.randn(1, 5, 40, generator=gen, dtype=torch.float64)}
        ids = torch.cat([torch.ones(1, 1, dtype=torch.long), torch.randint(3, 260, (1, 30), generator=gen)], dim=1)
        torch.testing.assert_close(model(cond, ids), reference_logits(state, cond, ids, heads=4), rtol=1e-9, atol=1e-9)


def test_gendop_checkpoint_problems_are_named(tmp_path, text_checkpoint):
    path = text_checkpoint[0]
    full = load_file(str(path))

    def write(name, tensors):
        target = tmp_path / name
        save_file(tensors, str(target))
        return target

    missing = {k: v for k, v in full.items() if k != "mesh_decoder.model.layers.1.fc2.bias"}
    with pytest.raises(CheckpointError, match=r"missing: mesh_decoder\.model\.layers\.1\.fc2\.bias"):
        load_director(write("missing.safetensors", missing), heads=4, encoder_heads=4)
    extra = full | {"mesh_decoder.model.final_norm.weight": torch.ones(32, dtype=torch.float64)}
    with pytest.raises(CheckpointError, match=r"unexpected: mesh_decoder\.model\.final_norm\.weight"):
        load_director(write("extra.safetensors", extra), heads=4, encoder_heads=4)
    wrong = full | {"norm_cond.bias": torch.zeros(31, dtype=torch.float64)}
    with pytest.raises(CheckpointError, match=r"wrong shape: norm_cond.bias \(31,\)"):
        load_director(write("wrong.safetensors", wrong), heads=4, encoder_heads=4)
    head = full | {"mesh_decoder.lm_head.weight": torch.zeros(300, 32, dtype=torch.float64)}
    with pytest.raises(CheckpointError, match="tokenizer mismatch"):
        load_director(write("head.safetensors", head), heads=4, encoder_heads=4)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_director(garbage)
    pickle = tmp_path / "text_motion.ckpt"
    pickle.write_bytes(b"\x80\x04")
    with pytest.raises(CheckpointError, match="pickled checkpoints are not loaded"):
        load_director(pickle)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_director(tmp_path / "nowhere")
    # transformers' position_ids buffers and the unused post_layernorm are allowed extras
    allowed = full | {"text_encoder.text_model.embeddings.position_ids": torch.arange(77)[None]}
    load_director(write("allowed.safetensors", allowed), heads=4, encoder_heads=4)


def _small_config(**overrides) -> DirectorConfig:
    values = dict(hidden=32, heads=4, layers=2, ffn=64, positions=200, text_encoder="minilm", text_tokens=12,
                  poses=12, slots=(0, 1, 2, 3, 4, 5, 6, 9), token_offset=3)
    return DirectorConfig(**(values | overrides))


def test_own_checkpoint_round_trip_and_config_errors(tmp_path):
    torch.manual_seed(0)
    model = Director(_small_config()).eval()
    folder = save_director(model, tmp_path / "director")
    assert json.loads((folder / "config.json").read_text())["slots"] == [0, 1, 2, 3, 4, 5, 6, 9]
    loaded = load_director(folder)
    cond = torch.randn(2, 12, 384)
    ids = torch.randint(3, 260, (2, 20))
    with torch.no_grad():
        torch.testing.assert_close(loaded(cond, ids), model(cond, ids), rtol=0, atol=0)
    with pytest.raises(CheckpointError, match="token offset 3, not 0"):
        load_director(folder, token_offset=0)
    (folder / "config.json").write_text(json.dumps(model.config.to_json() | {"hidden": 64}))
    with pytest.raises(CheckpointError, match="wrong shape"):
        load_director(folder)
    (folder / "config.json").write_text(json.dumps(model.config.to_json() | {"bogus": 1}))
    with pytest.raises(CheckpointError, match="bogus"):
        load_director(folder)


@pytest.mark.parametrize("offset", [3, 0])
def test_cached_batched_sampling_equals_step_by_step_without_cache(offset):
    torch.manual_seed(1)
    model = Director(_small_config(token_offset=offset)).double().eval()
    prefix = model.condition(torch.randn(4, 12, 384, dtype=torch.float64))
    count = model.config.poses * len(model.config.slots)
    greedy = SamplingOptions(mode="greedy")
    cached = sample_tokens(model, prefix, count, greedy)
    assert torch.equal(cached, sample_tokens(model, prefix, count, greedy, use_cache=False))
    # one batched call = each sequence on its own
    for b in range(4):
        assert torch.equal(cached[b:b + 1], sample_tokens(model, prefix[b:b + 1], count, greedy))
    topk = SamplingOptions(top_k=5, temperature=0.8)
    a = sample_tokens(model, prefix, count, topk, torch.Generator().manual_seed(9))
    b = sample_tokens(model, prefix, count, topk, torch.Generator().manual_seed(9), use_cache=False)
    c = sample_tokens(model, prefix, count, topk, torch.Generator().manual_seed(10))
    assert torch.equal(a, b) and not torch.equal(a, c)
    low, high = coordinate_ids(offset)
    assert (low, high) == ((3, 259) if offset == 3 else (3, 256))
    for ids in (cached, a):
        assert ids.shape == (4, count) and int(ids.min()) >= low and int(ids.max()) <= high
        model.config.tokenizer().decode(ids[0].numpy())  # every sample decodes


def test_greedy_sampling_follows_the_argmax_of_the_teacher_forced_logits():
    torch.manual_seed(2)
    model = Director(_small_config()).double().eval()
    cond = torch.randn(2, 12, 384, dtype=torch.float64)
    ids = sample_tokens(model, model.condition(cond), 24, SamplingOptions(mode="greedy"))
    with torch.no_grad():
        logits = model(cond, torch.cat([model.bos(2, "cpu"), ids], dim=1))[:, 12:-1]
    low, high = coordinate_ids(3)
    assert torch.equal(logits[..., low:high + 1].argmax(-1) + low, ids)


def test_default_sampling_is_gendops_top_k_10_at_temperature_1():
    """GenDoP samples with ``do_sample=True, top_k=10``, temperature 1 (spec gendop.md §5); greedy is opt-in."""
    import inspect

    import typer.main

    from trajkit.cli.main import app
    from trajkit.director import pipeline
    from trajkit.jobs.spec import CameraSpec

    gendop = SamplingOptions(mode="top-k", top_k=10, temperature=1.0)
    assert SamplingOptions() == gendop
    assert inspect.signature(sample_tokens).parameters["options"].default == gendop
    for method in (pipeline.DirectorPipeline.__call__, pipeline.DirectorPipeline.tokens):
        assert inspect.signature(method).parameters["options"].default == gendop
    assert CameraSpec(text="pan left").sampling == "top-k"
    direct = typer.main.get_command(app).commands["direct"]
    defaults = {p.name: p.default for p in direct.params}
    assert (defaults["greedy"], defaults["top_k"], defaults["temperature"]) == (False, 10, 1.0)


class _FixedLogits(torch.nn.Module):
    """A decoder stand-in that predicts the same logits after any input (with or without a cache); it keeps the
    real decoder's embeddings (``model``), which the sampler uses to embed each drawn token."""

    def __init__(self, logits: torch.Tensor, embeddings: torch.nn.Module) -> None:
        super().__init__()
        self.logits = logits
        self.model = embeddings

    def forward(self, x: torch.Tensor, past: object = None) -> tuple[torch.Tensor, None]:
        return self.logits.expand(x.shape[0], x.shape[1], -1), None


def test_default_sampling_draws_from_the_top_10_softmax_of_fixed_logits():
    torch.manual_seed(5)
    model = Director(_small_config()).eval()
    low = coordinate_ids(model.config.token_offset)[0]
    logits = torch.full((model.config.vocab_size,), -30.0)
    logits[low - 1] = 9.0  # EOS-side id below the coordinate range: blocked however likely
    ids = torch.arange(low + 40, low + 52)
    values = torch.tensor([2.0, 1.6, 1.2, 0.9, 0.6, 0.4, 0.2, 0.0, -0.2, -0.4, -0.45, -0.5])
    logits[ids] = values
    model.mesh_decoder = _FixedLogits(logits, model.mesh_decoder.model)
    rows = 20_000
    prefix = torch.zeros(rows, 3, model.config.hidden)
    drawn = sample_tokens(model, prefix, 1, generator=torch.Generator().manual_seed(0))[:, 0]
    # Independent expectation: softmax of the 10 largest allowed logits (T = 1); the 11th and 12th never drawn.
    p = torch.exp(values[:10].double()) / torch.exp(values[:10].double()).sum()
    counts = torch.stack([(drawn == i).sum() for i in ids]).double() / rows
    assert counts[10:].sum() == 0 and ((drawn >= ids[0]) & (drawn <= ids[-1])).all()
    sd = torch.sqrt(p * (1 - p) / rows)
    assert (torch.abs(counts[:10] - p) < 5 * sd).all(), (counts[:10], p)


def test_decoder_only_gendop_checkpoint_loads_with_a_named_text_encoder(tmp_path, text_checkpoint):
    """Issue 17 item 5: a GenDoP file with only the decoder and projections (text features from outside) was refused
    for its missing text encoder. With the encoder named (a transformers folder) it is the same model as the full file.
    """
    full, state, encoder = text_checkpoint
    decoder_only = write_gendop_checkpoint(tmp_path / "decoder_only.safetensors", state)
    folder = tmp_path / "text_encoder"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="--text-encoder"):
        load_director(decoder_only, heads=4, encoder_heads=4)
    ours = load_director(decoder_only, heads=4, encoder_heads=4, text_encoder=folder, dtype=torch.float64)
    reference = load_director(full, heads=4, encoder_heads=4, dtype=torch.float64)
    ids = torch.randint(0, 1000, (1, 77), generator=torch.Generator().manual_seed(2))
    tokens = torch.cat([torch.ones(1, 1, dtype=torch.long), torch.randint(3, 260, (1, 20))], dim=1)
    with torch.no_grad():
        features = ours.text_encoder(input_ids=ids).last_hidden_state
        torch.testing.assert_close(features, reference.text_encoder(input_ids=ids).last_hidden_state, rtol=0, atol=0)
        torch.testing.assert_close(ours(features, tokens), reference(features, tokens), rtol=0, atol=0)
    with pytest.raises(CheckpointError, match="holds its own text encoder"):
        load_director(full, heads=4, encoder_heads=4, text_encoder=folder)
    (tmp_path / "junk").mkdir()
    save_file({"weight": torch.zeros(2)}, str(tmp_path / "junk" / "model.safetensors"))
    with pytest.raises(CheckpointError, match="not a CLIP text encoder"):
        load_director(decoder_only, heads=4, encoder_heads=4, text_encoder=tmp_path / "junk")
