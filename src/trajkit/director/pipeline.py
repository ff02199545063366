"""Text → camera paths with a director: encode prompts, sample tokens, decode to :class:`CameraPath`.

>>> from trajkit.director.pipeline import DirectorPipeline
>>> pipe = DirectorPipeline.load()                      # the embedded model shipped with trajkit
>>> cameras = pipe(["slowly push in on the subject"], num=2, seed=0)

Decoded paths have 120 frames at 30 fps by default (DataDoP's shots), world = the first camera's OpenCV
frame, translations at the decoded scale (``10^(bin/64 − 2)``; GenDoP's files store normalised units, which
``normalised=True`` gives).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from ..core.camera import CameraPath
from ..core.errors import TrajkitError
from .checkpoint import load_director
from .conditioning import MiniLMText, depth_pixels, encode_clip_text, load_clip_tokenizer, rgb_pixels
from .model import Director
from .sampling import SamplingOptions, coordinate_ids, sample_tokens, start_sequence

EMBEDDED = "embedded"
DEFAULT_SAMPLING = SamplingOptions()
GREEDY = SamplingOptions(mode="greedy")


def embedded_checkpoint() -> Path:
    """The folder of the small director shipped inside the package (trained on synthetic shots)."""
    return Path(str(resources.files("trajkit.director") / "weights" / EMBEDDED))


#: Below this many parameters a director runs its CPU work on one thread (see :func:`few_threads`).
SMALL_MODEL_PARAMETERS = 50_000_000


@contextmanager
def few_threads(model: torch.nn.Module) -> Iterator[None]:
    """Run a small model's CPU work on one thread, restoring the count after.

    Token-by-token sampling of a small director is a long series of tiny ops: intra-op threads cannot speed them
    up, and waking them costs more than the op (measured on the 2-core development VM: 8 ms per attention call with
    2 threads, 0.008 ms with 1 — ``trajkit direct`` 5–10 s → see benchmarks/RESULTS.md). GPU work and large models
    keep torch's thread count.
    """
    first = next(model.parameters(), None)
    small = sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMETERS
    if first is None or first.device.type != "cpu" or not small or torch.get_num_threads() == 1:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class DirectorPipeline:
    """A loaded director and its text encoder."""

    model: Director
    text_tokenizer: object | None = None  # CLIP tokenizer for GenDoP's text models
    source: str = EMBEDDED

    @classmethod
    def load(cls, checkpoint: str | Path | None = None, *, tokenizer: str | Path | None = None,
             token_offset: int | None = None, heads: int | None = None, encoder_heads: int | None = None,
             text_encoder: str | Path | None = None, device: str = "cpu") -> DirectorPipeline:
        """Load a director (default: the embedded one). GenDoP checkpoints need ``tokenizer``, the folder of
        SD-2.1-base's CLIP tokenizer; ``text_rgbd`` also needs an image and a depth map per call. Without
        ``token_offset`` a GenDoP checkpoint assumes 0; :meth:`detect_token_offset` checks it against the model.
        ``heads`` / ``encoder_heads``: attention heads of a GenDoP checkpoint's decoder / CLIP towers, which its
        tensors cannot tell (defaults 8 / 16, the released preset); ``text_encoder``: the CLIP text encoder (a
        transformers folder) of a GenDoP checkpoint that holds only the decoder and projections."""
        path = embedded_checkpoint() if checkpoint is None else Path(checkpoint)
        model = load_director(path, token_offset=token_offset, heads=heads, encoder_heads=encoder_heads,
                              text_encoder=text_encoder, device=device)
        text_tokenizer = None
        if model.config.text_encoder == "clip":
            if tokenizer is None:
                raise TrajkitError(f"{path}: a GenDoP text model needs its CLIP tokenizer files: pass --tokenizer "
                                   "DIR with SD-2.1-base's tokenizer (hf download "
                                   "stabilityai/stable-diffusion-2-1-base --include 'tokenizer/*' --local-dir sd21, "
                                   "then --tokenizer sd21/tokenizer)")
            text_tokenizer = load_clip_tokenizer(tokenizer, model.text_encoder.config.vocab_size)
        return cls(model=model, text_tokenizer=text_tokenizer, source=str(path))

    def detect_token_offset(self, prompt: str, image: np.ndarray | None = None, depth: np.ndarray | None = None
                            ) -> int:
        """GenDoP checkpoints (CLIP text) do not say their token scheme: switch to the one the model speaks for
        ``prompt`` (:func:`first_token_offset`) and return it. trajkit's own directors keep their config's."""
        config = self.model.config
        if config.text_encoder == "clip":
            detected = first_token_offset(self, prompt, image, depth)
            if detected != config.token_offset:
                self.model.config = replace(config, token_offset=detected)
        return self.model.config.token_offset

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def encode_text(self, prompts: Sequence[str]) -> torch.Tensor:
        """Hidden states of the text stream ``(B, text_tokens, width)``."""
        prompts = list(prompts)
        config = self.model.config
        with torch.no_grad():
            if config.text_encoder == "clip":
                features = encode_clip_text(self.model.text_encoder, self.text_tokenizer, prompts, self.device)
            elif config.text_encoder == "minilm":
                features = MiniLMText(config.text_tokens, self.device)(prompts)
            else:
                raise TrajkitError(f"{self.source}: this director has no text encoder (text_encoder: none)")
        return features.to(next(self.model.parameters()).dtype)

    def encode(self, prompts: Sequence[str], image: np.ndarray | None = None, depth: np.ndarray | None = None
               ) -> torch.Tensor | dict[str, torch.Tensor]:
        """The condition streams: text features, or for text + RGBD directors a dict with the first frame
        (uint8 ``(H, W, 3)`` RGB) and its raw depth ``(H, W)`` through GenDoP's preprocessing, shared by all
        prompts."""
        text = self.encode_text(prompts)
        if self.model.config.cond_mode == "text":
            if image is not None or depth is not None:
                raise TrajkitError(f"{self.source}: a text-only director takes no image or depth")
            return text
        if image is None or depth is None:
            raise TrajkitError(f"{self.source}: a text + RGB + depth director needs the first frame (--image) and its "
                               "depth map (--depth)")
        dtype, side = text.dtype, self.model.image_encoder.config.image_size
        with torch.no_grad():
            rgb = self.model.image_encoder(pixel_values=rgb_pixels(image, side).to(self.device, dtype))
            dep = self.model.depth_encoder(pixel_values=depth_pixels(depth, side).to(self.device, dtype))
            rgb, dep = rgb.last_hidden_state, dep.last_hidden_state
        B = text.shape[0]
        return {"text": text, "image": rgb.expand(B, -1, -1), "depth": dep.expand(B, -1, -1)}

    def tokens(self, prompts: Sequence[str], num: int = 1, seed: int | None = 0,
               options: SamplingOptions = DEFAULT_SAMPLING, image: np.ndarray | None = None,
               depth: np.ndarray | None = None) -> torch.Tensor:
        """Token ids ``(len(prompts) · num, poses · slots)``, ``num`` per prompt (prompt-major order)."""
        if num < 1:
            raise TrajkitError(f"num must be ≥ 1 (got {num})")
        with few_threads(self.model):
            streams = self.encode(prompts, image, depth)
        if isinstance(streams, dict):
            features = {k: v.repeat_interleave(num, dim=0) for k, v in streams.items()}
        else:
            features = streams.repeat_interleave(num, dim=0)
        generator = None
        if seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(int(seed))
        with torch.no_grad(), few_threads(self.model):
            prefix = self.model.condition(features)
            return sample_tokens(self.model, prefix, self.model.config.tokenizer().length, options, generator)

    def __call__(self, prompts: str | Sequence[str], num: int = 1, seed: int | None = 0,
                 options: SamplingOptions = DEFAULT_SAMPLING, frames: int = 120, fps: float = 30.0,
                 size: tuple[int, int] = (512, 512), normalised: bool = False, image: np.ndarray | None = None,
                 depth: np.ndarray | None = None) -> list[CameraPath]:
        """Camera paths, ``num`` per prompt (prompt-major)."""
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        ids = self.tokens(prompts, num, seed, options, image=image, depth=depth).cpu().numpy()
        tokenizer = self.model.config.tokenizer()
        cameras = []
        for i, row in enumerate(ids):
            camera = tokenizer.decode(row, frames=frames, size=size, fps=fps, apply_scale=not normalised)
            meta = dict(camera.meta, prompt=prompts[i // num], director=self.source, sample=i % num,
                        seed=seed, sampling=options.mode)
            cameras.append(camera.replace(meta=meta))
        return cameras


@lru_cache(maxsize=4)
def load_pipeline(checkpoint: Path | None = None) -> DirectorPipeline:
    """:meth:`DirectorPipeline.load` on the CPU, cached (a job file may direct several cameras)."""
    return DirectorPipeline.load(checkpoint)


def first_token_offset(pipe: DirectorPipeline, prompt: str = "The camera moves forward.",
                       image: np.ndarray | None = None, depth: np.ndarray | None = None) -> int:
    """Which token scheme a GenDoP checkpoint speaks (§2.4): the first pose is the identity, whose first token is
    bin 256 — id 256 without offset, 259 with. Returns the offset whose id scores higher at the first step."""
    with torch.no_grad():
        prefix = pipe.model.condition(pipe.encode([prompt], image, depth))
        logits, _ = pipe.model.mesh_decoder(start_sequence(pipe.model, prefix))
    high = coordinate_ids(0)[1]
    return 0 if logits[0, -1, high] >= logits[0, -1, high + 3] else 3


def tagged_fscore(pipe: DirectorPipeline, captions: Sequence[str], references: Sequence[CameraPath],
                  options: SamplingOptions = GREEDY, seed: int = 0,
                  batch: int = 64) -> dict[str, float]:
    """Caption F-score of generated paths (tagged) against reference paths (tagged), one sample per caption.
    Captions too long for the director's text stream are left out (``samples`` counts those used)."""
    from .metrics import caption_fscore
    from .tagging import tag

    if pipe.model.config.text_encoder == "minilm":
        encoder = MiniLMText(pipe.model.config.text_tokens, pipe.device)
        pairs = [(c, r) for c, r in zip(captions, references, strict=True) if encoder.token_count(c) <= encoder.tokens]
        captions, references = [c for c, _ in pairs], [r for _, r in pairs]
    predicted, target = [], []
    for start in range(0, len(captions), batch):
        chunk = list(captions[start:start + batch])
        for camera in pipe(chunk, num=1, seed=seed + start, options=options, frames=120, fps=30.0):
            predicted.append(tag(camera))
    target = [tag(ref) for ref in references]
    scores = caption_fscore(predicted, target)
    scores["samples"] = float(len(captions))
    return scores
