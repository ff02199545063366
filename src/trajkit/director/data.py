"""Training data for directors: captioned camera paths from DataDoP folders or the synthetic generator,
tokenised and with frozen text features precomputed once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..core.camera import CameraPath
from ..core.errors import TrajkitError
from .model import DirectorConfig
from .synthetic import synthetic_shots

SUFFIX = "_transforms_cleaning.json"


@dataclass
class TokenData:
    """Features ``(N, text_tokens, width)`` (float16, on the device) and ids ``(N, 1 + tokens + 1)``."""

    features: torch.Tensor
    ids: torch.Tensor

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index = index.to(self.ids.device)
        return self.features[index].float(), self.ids[index]


@dataclass
class CaptionedCameras:
    """Parallel lists of captions and camera paths."""

    captions: list[str]
    cameras: list[CameraPath]
    _cache: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.captions)

    def tensors(self, config: DirectorConfig, device: torch.device | str = "cpu", batch: int = 128) -> TokenData:
        """Tokenise the cameras and encode the captions (MiniLM, frozen), cached per config. Captions longer than
        the text stream are left out (the synthetic generator's 4-segment captions occasionally are)."""
        from .conditioning import MiniLMText

        if config.text_encoder != "minilm":
            raise TrajkitError("training reads text through the frozen MiniLM encoder (text_encoder: minilm); "
                               "fine-tuning GenDoP's CLIP models is not supported here")
        tokenizer = config.tokenizer()
        key = (tokenizer, config.text_tokens, str(device))
        if key not in self._cache:
            encoder = MiniLMText(config.text_tokens, device)
            keep = [i for i, text in enumerate(self.captions) if encoder.token_count(text) <= config.text_tokens]
            if not keep:
                raise TrajkitError(f"every caption is longer than {config.text_tokens} word pieces")
            ids = np.stack([tokenizer.sequence(self.cameras[i]) for i in keep])
            captions = [self.captions[i] for i in keep]
            features = torch.cat([encoder(captions[i:i + batch]).half() for i in range(0, len(captions), batch)])
            self._cache[key] = TokenData(features=features, ids=torch.from_numpy(ids).to(device))
        return self._cache[key]


def synthetic_set(count: int, seed: int) -> CaptionedCameras:
    shots = list(synthetic_shots(count, seed))
    return CaptionedCameras([s.caption for s in shots], [s.camera for s in shots])


def _listed_shots(root: Path) -> list[Path]:
    for split in ("train", "test"):
        listing = root / f"{split}_valid.txt"
        if listing.is_file():
            names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
            found = []
            for name in names:
                for base in (root / split, root):
                    candidate = base / f"{name}{SUFFIX}"
                    if candidate.is_file():
                        found.append(candidate)
                        break
            return found
    return sorted(root.rglob(f"*{SUFFIX}"))


def datadop_folder(root: str | Path, caption_key: str = "Movement",
                   log: Callable[[str], None] = print) -> CaptionedCameras:
    """DataDoP shots under ``root``: ``train_valid.txt`` (``VideoID/ShotID`` lines, files under ``train/``) when
    present, else every ``*_transforms_cleaning.json`` below it; each needs its ``*_caption.json`` with
    ``caption_key``. Unreadable shots are skipped and reported (GenDoP silently swapped in a random one)."""
    from ..formats import gendop_caption
    from ..formats.transforms_json import read_gendop

    root = Path(root)
    if not root.is_dir():
        raise TrajkitError(f"training data {root} is not a folder (a DataDoP folder, or 'synthetic')")
    files = _listed_shots(root)
    key_attr = gendop_caption.KEYS.get(caption_key)
    if key_attr is None:
        raise TrajkitError(f"caption key {caption_key!r}: expected one of {', '.join(gendop_caption.KEYS)}")
    captions, cameras, skipped = [], [], []
    for path in files:
        try:
            camera = read_gendop(path)
            text = getattr(gendop_caption.read(path.with_name(path.name[:-len(SUFFIX)] + "_caption.json")), key_attr)
            if not text:
                raise TrajkitError(f"no {caption_key!r} caption")
            R = np.asarray(camera.c2w)[:, :3, :3]
            if not np.allclose(R @ np.swapaxes(R, 1, 2), np.eye(3), atol=1e-5):
                raise TrajkitError("rotations are not orthonormal")
        except (TrajkitError, OSError) as exc:
            skipped.append(f"{path}: {exc}")
            continue
        captions.append(text)
        cameras.append(camera)
    for line in skipped[:10]:
        log(f"skipped {line}")
    if len(skipped) > 10:
        log(f"… and {len(skipped) - 10} more skipped shots")
    if not captions:
        raise TrajkitError(f"{root}: no usable DataDoP shots (*{SUFFIX} with *_caption.json)")
    log(f"{len(captions)} DataDoP shots from {root} ({len(skipped)} skipped), caption key {caption_key!r}")
    return CaptionedCameras(captions, cameras)
