"""A tiny random Wan2.1 I2V pipeline saved in diffusers' folder layout, built offline (recipe: ecosystem.md §6)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from wan_models import build_tiny_wan_pipeline

os.environ.setdefault("HF_HUB_OFFLINE", "1")

@pytest.fixture(scope="session")
def tiny_wan_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny random Wan2.1 I2V pipeline (``save_pretrained`` layout, like the real base)."""
    import torch

    torch.set_num_threads(2)
    folder = tmp_path_factory.mktemp("tiny-wan") / "base"
    build_tiny_wan_pipeline().save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_trajmaster(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny random CogVideoX base, an injector folder in the released layout and a LoRA file."""
    import torch
    from cogvideox_models import build_tiny_cogvideox_pipeline, write_injector_folder, write_lora

    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("tiny-trajmaster")
    build_tiny_cogvideox_pipeline().save_pretrained(root / "base")
    write_injector_folder(root / "base", root / "injector")
    write_lora(root / "lora")
    return {"base": root / "base", "injector": root / "injector", "lora": root / "lora"}
