"""Director quality: held-out synthetic caption F-score and hand-written prompts outside the synthetic grammar.

1. Held-out set: synthetic shots from a seed the model never saw; each caption → one greedy path → GenDoP's
   tagger → per-frame weighted F1 against the tags of the shot's own path (GenDoP's caption F-score).
2. Hand-written prompts: each prompt → ``--samples`` sampled paths (top-k 10, GenDoP's default) and one
   greedy path; a path "follows" the prompt when its tagged segments are the intended ones. Prints a markdown table.

    python benchmarks/director_quality.py                        # the embedded director
    python benchmarks/director_quality.py --checkpoint runs/embedded --held-out 500
"""

from __future__ import annotations

import argparse
import time

from trajkit.director.pipeline import GREEDY, DirectorPipeline, tagged_fscore
from trajkit.director.sampling import SamplingOptions
from trajkit.director.synthetic import synthetic_shots
from trajkit.director.tagging import tag

#: (prompt, intended segments as (translation, rotation)); none of these sentences is in the synthetic grammar.
PROMPTS = [
    ("slowly push in on the subject", [("forward", "static")]),
    ("the camera glides to the right and turns left", [("right", "yaw left")]),
    ("pull back to reveal the city skyline", [("backward", "static")]),
    ("crane up above the crowd", [("up", "static")]),
    ("pan right across the mountains", [("static", "yaw right")]),
    ("tilt down to the floor", [("static", "pitch down")]),
    ("a drone flies forward over the lake", [("forward", "static")]),
    ("the shot is completely still", [("static", "static")]),
    ("dolly out, then pan left", [("backward", "static"), ("static", "yaw left")]),
    ("track left alongside the runner", [("left", "static")]),
    ("descend slowly while looking up at the tower", [("down", "pitch up")]),
    ("move closer to the actor and then stop", [("forward", "static"), ("static", "static")]),
    ("rise and tilt down to keep the car in frame", [("up", "pitch down")]),
    ("swing the camera left, then push forward", [("static", "yaw left"), ("forward", "static")]),
]


def tagged_pairs(segments) -> list[tuple[str, str]]:
    return [(s.translation, s.rotation) for s in segments]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None, help="director checkpoint (default: the embedded one)")
    parser.add_argument("--held-out", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261121, help="held-out synthetic seed (training used 0)")
    parser.add_argument("--samples", type=int, default=8)
    args = parser.parse_args()
    pipe = DirectorPipeline.load(args.checkpoint)
    print(f"director: {pipe.source}")
    start = time.time()
    shots = list(synthetic_shots(args.held_out, args.seed))
    scores = tagged_fscore(pipe, [s.caption for s in shots], [s.camera for s in shots])
    print(f"held-out synthetic (seed {args.seed}, {int(scores['samples'])} shots, greedy): caption F-score "
          f"{scores['fscore']:.3f} (precision {scores['precision']:.3f}, recall {scores['recall']:.3f}), "
          f"{time.time() - start:.1f} s")
    print()
    print(f"| prompt | intended | greedy path (tagged) | sampled paths that follow it (of {args.samples}) |")
    print("|---|---|---|---|")
    hits = 0
    for prompt, intended in PROMPTS:
        greedy = tagged_pairs(tag(pipe(prompt, num=1, seed=0, options=GREEDY)[0]))
        sampled = pipe(prompt, num=args.samples, seed=0, options=SamplingOptions())
        follows = sum(tagged_pairs(tag(c)) == intended for c in sampled)
        hits += greedy == intended

        def names(pairs):
            return "; ".join(t if r == "static" else (r if t == "static" else f"{t} + {r}") for t, r in pairs)

        mark = "✓" if greedy == intended else "✗"
        print(f"| {prompt} | {names(intended)} | {mark} {names(greedy)} | {follows}/{args.samples} |")
    print(f"\ngreedy paths following the prompt: {hits}/{len(PROMPTS)}")


if __name__ == "__main__":
    main()
