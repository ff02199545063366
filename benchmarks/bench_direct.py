"""`trajkit direct` wall time for one prompt, end to end, in fresh processes (issue 17: ≤ 3 s on 2 cores).

Each run is a new `trajkit direct "PROMPT"` process (imports, loading the embedded director and MiniLM, sampling,
tagging, writing; with and without the three-view plot). The baseline, run in the same session, is a process that
only imports torch — the floor any torch-based command pays. Prints the median of the runs, the ratio to that floor,
the load average and the machine.

    python benchmarks/bench_direct.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(cmd: list[str], runs: int) -> float:
    """Median wall seconds of ``runs`` fresh processes of ``cmd`` (output discarded, failures raised)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prompt", default="slowly pan left, then push in")
    args = parser.parse_args()
    trajkit = [sys.executable, "-m", "trajkit"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "cam.json")
        floor = wall([sys.executable, "-c", "import torch"], args.runs)
        no_plot = wall([*trajkit, "direct", args.prompt, "-o", out, "--no-plot"], args.runs)
        with_plot = wall([*trajkit, "direct", args.prompt, "-o", out], args.runs)
    print(f"python -c 'import torch' (floor):  {floor:.2f} s")
    print(f"trajkit direct --no-plot:         {no_plot:.2f} s  ({no_plot / floor:.1f}× the floor)")
    print(f"trajkit direct (three-view PNG):  {with_plot:.2f} s  ({with_plot / floor:.1f}× the floor)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
