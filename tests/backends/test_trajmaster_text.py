"""3DTrajMaster's text inputs (trajmaster.md §3) on a tiny T5: entity tokens, empty context, scene prompt."""

from __future__ import annotations

import logging

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from wan_models import tiny_tokenizer  # noqa: E402

from trajkit.control.trajmaster_text import (  # noqa: E402
    encode_empty_context,
    encode_entity_prompts,
    global_prompt,
    token_counts,
)
from trajkit.core.errors import TrajkitError  # noqa: E402


@pytest.fixture(scope="module")
def text_models():
    from transformers import T5Config, T5EncoderModel

    tokenizer = tiny_tokenizer()
    torch.manual_seed(0)
    encoder = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                      num_heads=4, relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1,
                                      decoder_start_token_id=0)).eval()
    torch.manual_seed(1)
    proj = torch.nn.Linear(32, 48)
    with torch.no_grad():
        proj.bias.add_(1.0)  # a visible bias: padding must still come out exactly zero
    return tokenizer, encoder, proj


def unmasked_projection(tokenizer, encoder, proj, text, length=226):
    ids = tokenizer(text, padding="max_length", max_length=length, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        return proj(encoder(ids)[0])[0]


def test_entity_tokens_are_projected_t5_with_padding_zeroed_and_first_50_kept(text_models):
    tokenizer, encoder, proj = text_models
    prompts = ["a koi fish swims left", "a bear walks right"]
    tokens, counts = encode_entity_prompts(tokenizer, encoder, proj, prompts)
    assert tokens.shape == (1, 2, 50, 48)
    assert counts == token_counts(tokenizer, prompts) == [6, 5]  # words + </s>
    for i, prompt in enumerate(prompts):
        full = unmasked_projection(tokenizer, encoder, proj, prompt)  # T5 sees all 226 positions, no mask
        assert torch.allclose(tokens[0, i, :counts[i]], full[:counts[i]], atol=1e-6)
        assert torch.count_nonzero(tokens[0, i, counts[i]:]) == 0
        assert torch.count_nonzero(full[counts[i]:50]) > 0  # …which the bias would otherwise fill


def test_long_entity_prompts_are_reported(text_models, caplog):
    tokenizer, encoder, proj = text_models
    long = " ".join(["the bear walks"] * 20)
    with caplog.at_level(logging.WARNING, logger="trajkit.control.trajmaster_text"):
        tokens, counts = encode_entity_prompts(tokenizer, encoder, proj, [long])
    assert counts[0] == 61 and tokens.shape == (1, 1, 50, 48)
    assert torch.count_nonzero(tokens[0, 0].abs().sum(-1)) == 50  # truncated: no padding left, no </s>
    assert "61 T5 tokens" in caplog.text and "first 50" in caplog.text
    with pytest.raises(TrajkitError, match="non-empty prompt"):
        encode_entity_prompts(tokenizer, encoder, proj, ["a bear", "  "])


def test_empty_context_keeps_all_226_tokens_unmasked(text_models):
    tokenizer, encoder, proj = text_models
    context = encode_empty_context(tokenizer, encoder, proj)
    assert context.shape == (1, 226, 48)
    assert torch.allclose(context[0], unmasked_projection(tokenizer, encoder, proj, ""), atol=1e-6)
    assert torch.count_nonzero(context[0].abs().sum(-1)) == 226


def test_scene_prompt():
    assert global_prompt(["a koi fish."], "desert") == "a koi fish is moving in the desert"
    assert global_prompt(["a koi", "a bear", " a fox "], " park") == "a koi and a bear and a fox are moving in the park"
    with pytest.raises(TrajkitError, match="location"):
        global_prompt(["a koi"], " ")
