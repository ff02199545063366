"""all-MiniLM-L6-v2, the embedded director's text encoder, without transformers' model machinery.

The embedded director reads a prompt as MiniLM's token-level ``last_hidden_state``. Loading it through
``transformers.AutoModel`` imports ``transformers.modeling_utils`` (≈ 2.4 s on the 2-core development machine) for a
22 M-parameter BERT, which dominated ``trajkit direct``'s wall time. This module is that BERT encoder in plain torch
(the released ``model.safetensors`` loaded with strict keys) and its WordPiece tokenizer through the ``tokenizers``
library (the same ``tokenizer.json`` transformers' fast tokenizer reads). ``tests/director/test_minilm.py`` checks
both against transformers' ``BertModel`` / ``AutoTokenizer`` on the real weights.

BERT (Devlin et al. 2019), post-LN: embeddings = word + position + token type, LayerNorm; per layer
``x = LN(x + Attn(x))``, ``x = LN(x + W2·gelu(W1·x))``; exact (erf) GELU; LayerNorm eps from ``config.json``
(1e-12); attention scaled by 1/√head_dim, padded keys masked out.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional

from ..core.errors import TrajkitError, state_mismatch


class _Layer(nn.Module):
    """One BERT layer under the checkpoint's key names (``attention.self.query`` …)."""

    def __init__(self, hidden: int, ffn: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        for name in ("query", "key", "value"):
            setattr(self.attention.self, name, nn.Linear(hidden, hidden))
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(hidden, hidden)
        self.attention.output.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(hidden, ffn)
        self.output = nn.Module()
        self.output.dense = nn.Linear(ffn, hidden)
        self.output.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """``x (B, L, D)``, ``keep (B, 1, 1, L)`` True where a key may be attended."""
        B, L, D = x.shape
        att = self.attention.self

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(B, L, self.heads, D // self.heads).transpose(1, 2)

        context = functional.scaled_dot_product_attention(split(att.query(x)), split(att.key(x)), split(att.value(x)),
                                                          attn_mask=keep)
        context = context.transpose(1, 2).reshape(B, L, D)
        x = self.attention.output.LayerNorm(x + self.attention.output.dense(context))
        h = self.output.dense(functional.gelu(self.intermediate.dense(x)))
        return self.output.LayerNorm(x + h)


class MiniLMEncoder(nn.Module):
    """BERT's embeddings and encoder (no pooler), for ``config.json``'s sizes; ``forward`` gives
    ``last_hidden_state (B, L, hidden)`` for ``input_ids``/``attention_mask (B, L)``."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        hidden, eps = config["hidden_size"], config["layer_norm_eps"]
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(config["vocab_size"], hidden)
        self.embeddings.position_embeddings = nn.Embedding(config["max_position_embeddings"], hidden)
        self.embeddings.token_type_embeddings = nn.Embedding(config["type_vocab_size"], hidden)
        self.embeddings.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(
            _Layer(hidden, config["intermediate_size"], config["num_attention_heads"], eps)
            for _ in range(config["num_hidden_layers"]))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        emb = self.embeddings
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = emb.word_embeddings(input_ids) + emb.position_embeddings(positions) + emb.token_type_embeddings(
            torch.zeros_like(input_ids))
        x = emb.LayerNorm(x)
        keep = attention_mask.bool()[:, None, None, :]
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return x


class WordPieces:
    """MiniLM's tokenizer (``tokenizer.json``: lower-casing, WordPiece, ``[CLS] … [SEP]``), never truncating."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0

    def count(self, text: str) -> int:
        """Word pieces of ``text`` including ``[CLS]`` and ``[SEP]``."""
        return len(self.tokenizer.encode(text).ids)

    def batch(self, texts: list[str], length: int) -> dict[str, torch.Tensor]:
        """``input_ids`` and ``attention_mask`` ``(B, length)``, padded with ``[PAD]`` (texts must fit)."""
        ids = torch.full((len(texts), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(texts), length), dtype=torch.long)
        for i, encoding in enumerate(self.tokenizer.encode_batch(texts)):
            ids[i, :len(encoding.ids)] = torch.tensor(encoding.ids)
            mask[i, :len(encoding.ids)] = 1
        return {"input_ids": ids, "attention_mask": mask}


def load_minilm(folder: str | Path, device: str | torch.device = "cpu") -> tuple[WordPieces, MiniLMEncoder]:
    """The tokenizer and the frozen encoder (eval mode) from a MiniLM folder (``config.json``, ``tokenizer.json``,
    ``model.safetensors``); a folder whose weights do not fit is a :class:`TrajkitError` naming the mismatch."""
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
        state = load_file(str(folder / "model.safetensors"))
        tokenizer = WordPieces(folder / "tokenizer.json")
    except Exception as exc:  # OSError, JSON/KeyError, safetensors' and tokenizers' own (plain Exception) errors
        raise TrajkitError(f"{folder}: not a readable MiniLM folder ({type(exc).__name__}: {exc})") from exc
    model = MiniLMEncoder(config)
    state = {k: v for k, v in state.items() if not k.startswith("pooler.") and not k.endswith("position_ids")}
    problem = state_mismatch(model.state_dict(), state)
    if problem:
        raise TrajkitError(f"{folder}/model.safetensors: not the MiniLM this encoder expects: {problem}")
    model.load_state_dict(state, strict=True)
    return tokenizer, model.to(device).eval().requires_grad_(False)
