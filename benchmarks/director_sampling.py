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
import platform
import time

import torch

from trajkit.director.model import Director
from trajkit.director.sampling import SamplingOptions, sample_tokens
from trajkit.director.train import TrainOptions


def rate(model: Director, prefix: torch.Tensor, count: int, cache: bool, repeat: int) -> tuple[float, torch.Tensor]:
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
    config = TrainOptions(output=".", preset=args.preset).director_config()
    if args.preset == "gendop":  # GenDoP's text model: 77 CLIP tokens of width 1024
        from dataclasses import replace

        config = replace(config, text_encoder="none", text_tokens=77)
    dtype = getattr(torch, args.dtype)
    model = Director(config).to(args.device, dtype).eval()
    count = args.tokens or config.tokenizer().length
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))
    print(f"director {args.preset}: hidden {config.hidden}, {config.layers} layers, prefix {config.text_tokens}, "
          f"{count} tokens per trajectory, {args.dtype}, greedy")
    results = {}
    for batch in args.batches:
        prefix = model.condition(torch.randn(batch, config.text_tokens, config.text_width, device=args.device,
                                             dtype=dtype))
        with_cache, ids_cached = rate(model, prefix, count, True, args.repeat)
        without, ids_plain = rate(model, prefix, count, False, 1)
        same = torch.equal(ids_cached, ids_plain)
        results[batch] = (with_cache, without)
        print(f"batch {batch:3d}: cache on {with_cache:9.2f} traj/s, cache off {without:9.2f} traj/s, "
              f"cache speed-up {with_cache / without:6.1f}x, identical tokens: {same}")
    base = results[min(results)][0]
    for batch, (with_cache, without) in results.items():
        print(f"vs GenDoP's setting (batch 1, cache on): batch {batch} cache on {with_cache / base:6.1f}x, "
              f"cache off {without / base:6.2f}x")


if __name__ == "__main__":
    main()
