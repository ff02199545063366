"""CLIP text features for CLaTr: per-token states through EOT, zero padding, mask, EOT token; offline loading."""

from __future__ import annotations

import json
import socket
import string

import pytest
import torch

from trajkit.evaluate.clatr.text import CONTEXT, TextEncoderError, encode_clip_text, load_clip_text


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A random 2-layer CLIPTextModel and a character-level CLIP tokenizer, saved as a local folder."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny_clip")
    chars = list(string.ascii_lowercase + string.digits + ".,'-")
    vocab = ["!", *chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"]
    vocab += [f"unused{i}" for i in range(100 - len(vocab))]  # EOT is not the largest id here
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="!")
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = CLIPTextConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=2,
                            vocab_size=100, max_position_embeddings=CONTEXT, pad_token_id=0,
                            bos_token_id=vocab.index("<|startoftext|>"), eos_token_id=vocab.index("<|endoftext|>"))
    model = CLIPTextModel(config).eval()
    model.save_pretrained(folder)
    return folder, model, tokenizer


def test_features_are_the_final_states_through_eot_zero_padded(tiny_clip):
    _, model, tokenizer = tiny_clip
    prompts = ["pan left", "the camera moves forward slowly"]
    feats = encode_clip_text(model, tokenizer, prompts)
    assert feats.seq.shape == (2, CONTEXT, 16) and feats.mask.shape == (2, CONTEXT) and feats.token.shape == (2, 16)
    for i, text in enumerate(prompts):
        ids = tokenizer(text)["input_ids"]  # start, characters, end — no padding
        n = len(ids)
        with torch.no_grad():
            states = model(input_ids=torch.tensor([ids])).last_hidden_state[0]
        assert feats.mask[i].tolist() == [True] * n + [False] * (CONTEXT - n)
        assert torch.allclose(feats.seq[i, :n], states, atol=1e-5)  # padding does not leak (causal)
        assert not feats.seq[i, n:].any()
        assert torch.allclose(feats.token[i], states[-1], atol=1e-5)
    # the states are the final LayerNorm's output (no text projection: width 16, not projection_dim 512)
    norm = next(m for name, m in model.named_modules() if name.endswith("final_layer_norm"))
    captured = []
    handle = norm.register_forward_hook(lambda module, args, out: captured.append(out))
    again = encode_clip_text(model, tokenizer, prompts[:1])
    handle.remove()
    n = int(again.mask[0].sum())
    assert torch.equal(again.seq[0, :n], captured[0][0, :n])


def test_long_prompts_are_truncated_to_77_with_eot_last(tiny_clip):
    _, model, tokenizer = tiny_clip
    feats = encode_clip_text(model, tokenizer, ["a" * 200])
    assert bool(feats.mask[0].all())
    assert torch.allclose(feats.token[0], feats.seq[0, -1])


def test_local_folder_loads_and_empty_prompts_are_named(tiny_clip):
    folder, model, _ = tiny_clip
    encoder, tokenizer = load_clip_text(str(folder))
    assert encoder.config.hidden_size == 16
    a = encode_clip_text(encoder, tokenizer, ["tilt up"])
    b = encode_clip_text(model, tokenizer, ["tilt up"])
    assert torch.allclose(a.seq, b.seq, atol=1e-6)
    with pytest.raises(TextEncoderError, match="prompt 2 is empty"):
        encode_clip_text(encoder, tokenizer, ["pan", "  "])


def test_a_missing_encoder_is_a_named_error_without_network(monkeypatch, tmp_path):
    def no_network(*args, **kwargs):
        raise AssertionError("the text encoder tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(TextEncoderError, match=r"not on this machine.*hf download openai/clip-vit-base-patch32"):
        load_clip_text("trajkit-tests/no-such-clip")
    with pytest.raises(TextEncoderError, match="not on this machine"):
        load_clip_text(str(tmp_path))  # an empty folder


def test_a_full_clip_model_folder_gives_its_text_tower_and_partial_weights_are_refused(tiny_clip, tmp_path):
    """The Hub's openai/clip-vit-base-patch32 is a whole CLIPModel (text + vision); only the text weights count."""
    from safetensors.torch import load_file, save_file
    from transformers import CLIPConfig, CLIPModel

    _, model, tokenizer = tiny_clip
    text_config = model.config.to_dict()
    full = CLIPModel(CLIPConfig(text_config=text_config, projection_dim=8,
                                vision_config=dict(hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                                                   num_attention_heads=2, image_size=32, patch_size=16)))
    full.save_pretrained(tmp_path / "full")
    tokenizer.save_pretrained(tmp_path / "full")
    encoder, _ = load_clip_text(str(tmp_path / "full"))
    ids = torch.tensor([tokenizer("dolly in")["input_ids"]])
    with torch.no_grad():
        expected = full.get_text_features(input_ids=ids)  # projected EOT feature of the whole model …
        states = encoder(input_ids=ids).last_hidden_state  # … is the text tower's EOT state, projected
    assert torch.allclose(full.text_projection(states[:, -1]), getattr(expected, "pooler_output", expected), atol=1e-5)
    # drop one text weight: transformers would initialise it randomly; the loader refuses instead
    weights = load_file(tmp_path / "full" / "model.safetensors")
    dropped = next(k for k in weights if k.endswith("final_layer_norm.weight") and "text" in k)
    del weights[dropped]
    save_file(weights, tmp_path / "full" / "model.safetensors", metadata={"format": "pt"})
    load_clip_text.cache_clear()
    with pytest.raises(TextEncoderError, match=r"not a CLIP text model — 1 text-encoder weights are missing"):
        load_clip_text(str(tmp_path / "full"))
