"""Director sampling: trajectories per second for batch 1 and 32, with and without the key/value cache.

GenDoP samples one trajectory at a time (batch 1 asserted) with a cache; "no cache" re-runs the whole sequence
for every token (the straightforward transcription). Both paths run in this process on the same random-weight
model and prefix, greedy, and must give identical tokens (checked). Prints trajectories/s per setting and
the ratios against GenDoP's setting (batch 1, cache on).

    python benchmarks/director_sampling.py                         # the embedded model's shape, CPU
    python benchmarks/director_sampling.py --preset gendop --device cuda --dtype float16
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from trajkit.director.model import Director, DirectorConfig
from trajkit.director.sampling import SamplingOptions, sample_tokens


def director_config(preset: str) -> DirectorConfig:
    """The preset's model shape (``gendop``: GenDoP's text model, reading 77 CLIP-width tokens)."""
    from dataclasses import replace

    from trajkit.director.train import TrainOptions

    config = TrainOptions(output=".", preset=preset).director_config()
    if preset == "gendop":  # GenDoP's text model: 77 CLIP tokens of width 1024
        config = replace(config, text_encoder="none", text_tokens=77)
    return config


def rate(model: Director, prefix: torch.Tensor, count: int, cache: bool, repeat: int) -> tuple[float, torch.Tensor]:
    """(trajectories per second, best of ``repeat``; the sampled ids) for greedy sampling of ``count`` tokens."""
    best, ids = float("inf"), None
    for _ in range(repeat):
        if prefix.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        ids = sample_tokens(model, prefix, count, SamplingOptions(mode="greedy"), use_cache=cache)
        if prefix.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return prefix.shape[0] / best, ids


def measure(model: Director, batches: list[int], count: int, repeat: int) -> dict[int, dict[str, float]]:
    """Per batch size: trajectories/s with and without the cache, and whether both gave the same tokens."""
    config = model.config
    param = next(model.parameters())
    results = {}
    for batch in batches:
        prefix = model.condition(torch.randn(batch, config.text_tokens, config.text_width, device=param.device,
                                             dtype=param.dtype))
        with_cache, ids_cached = rate(model, prefix, count, True, repeat)
        without, ids_plain = rate(model, prefix, count, False, 1)
        results[batch] = {"cache_on_paths_per_s": with_cache, "cache_off_paths_per_s": without,
                          "identical_tokens": bool(torch.equal(ids_cached, ids_plain))}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=["small", "gendop"], default="small")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--tokens", type=int, default=None, help="tokens per trajectory (default: the preset's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    config = director_config(args.preset)
    dtype = getattr(torch, args.dtype)
    model = Director(config).to(args.device, dtype).eval()
    count = args.tokens or config.tokenizer().length
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, device {args.device}, load {os.getloadavg()[0]:.2f}"
          + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))
    print(f"director {args.preset}: hidden {config.hidden}, {config.layers} layers, prefix {config.text_tokens}, "
          f"{count} tokens per trajectory, {args.dtype}, greedy")
    results = measure(model, args.batches, count, args.repeat)
    for batch, r in results.items():
        with_cache, without = r["cache_on_paths_per_s"], r["cache_off_paths_per_s"]
        print(f"batch {batch:3d}: cache on {with_cache:9.2f} traj/s, cache off {without:9.2f} traj/s, "
              f"cache speed-up {with_cache / without:6.1f}x, identical tokens: {r['identical_tokens']}")
    base = results[min(results)]["cache_on_paths_per_s"]
    for batch, r in results.items():
        print(f"vs GenDoP's setting (batch 1, cache on): batch {batch} cache on "
              f"{r['cache_on_paths_per_s'] / base:6.1f}x, cache off {r['cache_off_paths_per_s'] / base:6.2f}x")


if __name__ == "__main__":
    main()
