"""Synthetic captioned camera paths for training and evaluating directors.

A shot is 1–4 segments, each one label of the tagger's vocabulary (a translation class and a rotation class),
built with :func:`trajkit.author.glide` (velocities fixed in the camera's own frame, which is what the tagger
measures) with varied speeds, durations and easing. Every shot is tagged with GenDoP's tagger and kept only
if the tags give back the intended segments, so caption and motion agree; the caption is written from those
segments with paraphrases (push in, pull back, pan, tilt, bank, rise, …), optional speed adverbs and scene
phrases, in third-person ("The camera pans left…") or imperative ("pan left, then…") form.

Shots are 120 frames at 30 fps, like DataDoP's, so the tagger's thresholds apply as in GenDoP; translations are
normalised so the farthest camera is 1 unit from the first (the units GenDoP's prediction files use) before
tagging, so a slow segment beside a long fast one must still read as motion to be kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..author.camera import Move, glide, hold
from ..core.camera import CameraPath
from .tagging import ROTATIONS, TRANSLATIONS, Segment, tag

FRAMES = 120
FPS = 30.0

# verb forms: (third person, gerund, imperative)
_AXIS_VERBS = {
    "right": [("moves right", "moving right", "move right"), ("trucks right", "trucking right", "truck right"),
              ("slides to the right", "sliding to the right", "slide to the right"),
              ("glides right", "gliding right", "glide right"), ("tracks right", "tracking right", "track right")],
    "left": [("moves left", "moving left", "move left"), ("trucks left", "trucking left", "truck left"),
             ("slides to the left", "sliding to the left", "slide to the left"),
             ("glides left", "gliding left", "glide left"), ("tracks left", "tracking left", "track left")],
    "forward": [("moves forward", "moving forward", "move forward"), ("pushes in", "pushing in", "push in"),
                ("dollies in", "dollying in", "dolly in"), ("advances", "advancing", "advance"),
                ("moves closer", "moving closer", "move closer"), ("flies forward", "flying forward", "fly forward")],
    "backward": [("moves backward", "moving backward", "move backward"), ("pulls back", "pulling back", "pull back"),
                 ("pulls out", "pulling out", "pull out"), ("dollies out", "dollying out", "dolly out"),
                 ("retreats", "retreating", "retreat"), ("backs away", "backing away", "back away")],
    "up": [("moves up", "moving up", "move up"), ("rises", "rising", "rise"), ("ascends", "ascending", "ascend"),
           ("cranes up", "craning up", "crane up"), ("lifts up", "lifting up", "lift up")],
    "down": [("moves down", "moving down", "move down"), ("descends", "descending", "descend"),
             ("lowers", "lowering", "lower"), ("sinks", "sinking", "sink"),
             ("cranes down", "craning down", "crane down")],
}
_ROTATION_VERBS = {
    "yaw left": [("yaws left", "yawing left", "yaw left"), ("pans left", "panning left", "pan left"),
                 ("turns left", "turning left", "turn left"), ("swings left", "swinging left", "swing left")],
    "yaw right": [("yaws right", "yawing right", "yaw right"), ("pans right", "panning right", "pan right"),
                  ("turns right", "turning right", "turn right"), ("swings right", "swinging right", "swing right")],
    "pitch up": [("pitches up", "pitching up", "pitch up"), ("tilts up", "tilting up", "tilt up"),
                 ("looks up", "looking up", "look up"), ("angles up", "angling up", "angle up")],
    "pitch down": [("pitches down", "pitching down", "pitch down"), ("tilts down", "tilting down", "tilt down"),
                   ("looks down", "looking down", "look down"), ("angles down", "angling down", "angle down")],
    "roll left": [("rolls left", "rolling left", "roll left"), ("banks left", "banking left", "bank left"),
                  ("rolls counterclockwise", "rolling counterclockwise", "roll counterclockwise")],
    "roll right": [("rolls right", "rolling right", "roll right"), ("banks right", "banking right", "bank right"),
                   ("rolls clockwise", "rolling clockwise", "roll clockwise")],
}
_STATIC_VERBS = [("remains static", "remaining static", "remain static"),
                 ("holds still", "holding still", "hold still"), ("stays still", "staying still", "stay still"),
                 ("holds its position", "holding its position", "hold the position"),
                 ("pauses", "pausing", "pause"), ("stays put", "staying put", "stay put")]
_IN_PLACE = ("", " in place", " without moving", " from a fixed position")
_SCENE = {"forward": (" toward the subject", " on the subject", " into the scene", " toward the building"),
          "backward": (" away from the subject", " to reveal the scene", " from the subject"),
          "any": (" across the scene", " through the room", " over the street", " past the trees", "")}
_ADVERBS = {"slow": ("slowly", "gently", "gradually"), "mid": ("steadily", "smoothly", ""),
            "fast": ("quickly", "rapidly", "swiftly")}
# (translation m/s low, high, rotation °/s low, high) at 30 fps. The tagger's thresholds are 0.02 m/s and
# 0.005 rad/frame (8.6 °/s): the slowest moves keep a margin of ≈ 4× and 1.9×; the fastest turn stays under
# 180° over a whole 4 s shot, so relative quaternions never change sign.
_SPEEDS = {"slow": (0.08, 0.15, 16.0, 22.0), "mid": (0.15, 0.3, 22.0, 28.0), "fast": (0.3, 0.5, 28.0, 35.0)}
_AXIS_VECTOR = {"right": (1, 0, 0), "left": (-1, 0, 0), "up": (0, 1, 0), "down": (0, -1, 0),
                "forward": (0, 0, 1), "backward": (0, 0, -1)}


@dataclass(frozen=True)
class SyntheticShot:
    """A captioned camera path and its tagged segments (the caption's ground truth)."""

    camera: CameraPath
    caption: str
    segments: list[Segment]


def _axes(translation: str) -> list[str]:
    if translation == "static":
        return []
    return [w for w in translation.replace(",", " ").split() if w in _AXIS_VECTOR]


T = TypeVar("T")


def _pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    return options[int(rng.integers(len(options)))]


#: Moving translation labels by how many axes they combine (1, 2, 3).
_BY_AXES = {n: [t for t in TRANSLATIONS[1:] if len(_axes(t)) == n] for n in (1, 2, 3)}


def _random_label(rng: np.random.Generator) -> tuple[str, str]:
    kind = rng.random()
    if kind < 0.08:
        return "static", "static"
    if kind < 0.25:
        return "static", _pick(rng, ROTATIONS[1:])
    r = rng.random()
    translation = _pick(rng, _BY_AXES[1] if r < 0.55 else _BY_AXES[2] if r < 0.9 else _BY_AXES[3])
    rotation = "static" if rng.random() < 0.55 else _pick(rng, ROTATIONS[1:])
    return translation, rotation


def _segment_move(translation: str, rotation: str, seconds: float, speed: str, rng: np.random.Generator) -> Move:
    lo, hi, rot_lo, rot_hi = _SPEEDS[speed]
    if translation == "static" and rotation == "static":
        return hold(seconds)
    direction = np.zeros(3)
    for axis in _axes(translation):
        # secondary axes within 0.75–1 of the main one, so the tagger's dominance rule keeps every axis
        direction += np.array(_AXIS_VECTOR[axis]) * rng.uniform(0.75, 1.0)
    if direction.any():
        direction *= rng.uniform(lo, hi) * seconds / np.linalg.norm(direction)
    turn = {"pan": 0.0, "tilt": 0.0, "roll": 0.0}
    if rotation != "static":
        degrees = rng.uniform(rot_lo, rot_hi) * seconds
        kind, side = rotation.split()
        # tagger words → author signs: yaw right = pan +, pitch up = tilt +, roll right = roll + (clockwise)
        sign = 1.0 if side in ("right", "up") else -1.0
        turn[{"yaw": "pan", "pitch": "tilt", "roll": "roll"}[kind]] = sign * degrees
    easing = _pick(rng, ("linear", "linear", "ease-in-out", list(rng.uniform(0.6, 1.4, size=4))))
    right, up, forward = direction
    return glide(right=right, up=up, forward=forward, duration=seconds, easing=easing, **turn)


def _verb(rng: np.random.Generator, translation: str, rotation: str, form: int) -> str:
    """One segment's verb phrase in the given form (0 third person, 1 gerund, 2 imperative)."""
    if translation == "static" and rotation == "static":
        return _pick(rng, _STATIC_VERBS)[form]
    rot = _pick(rng, _ROTATION_VERBS[rotation]) if rotation != "static" else None
    if translation == "static":
        return rot[form] + _pick(rng, _IN_PLACE)
    axes = _axes(translation)
    if len(axes) == 1:
        move = _pick(rng, _AXIS_VERBS[axes[0]])[form]
    else:
        head = ("moves", "moving", "move")[form] if rng.random() < 0.7 else ("travels", "travelling", "travel")[form]
        words = list(axes)
        if rng.random() < 0.3:
            rng.shuffle(words)
        listed = " and ".join(words) if len(words) == 2 else f"{words[0]}, {words[1]} and {words[2]}"
        move = f"{head} {listed}"
    if rng.random() < 0.25:
        move += _pick(rng, _SCENE.get(axes[0] if len(axes) == 1 else "any", _SCENE["any"]))
    if rot is None:
        return move
    joins = {0: ("{m} while {r1}", "{m}, {r1}", "{m} as it {r0}", "{r0} while {m1}"),
             1: ("{m} while {r1}", "{m} and {r1}"),
             2: ("{m} while {r1}", "{m} and {r2}", "{r2} while {m1}")}[form]
    m1 = _gerund(move)
    return _pick(rng, joins).format(m=move, m1=m1, r0=rot[0], r1=rot[1], r2=rot[2])


def _gerund(phrase: str) -> str:
    """``moves left toward x`` → ``moving left toward x`` (the first word of a third-person/imperative phrase)."""
    head, _, rest = phrase.partition(" ")
    for table in (*_AXIS_VERBS.values(), *_ROTATION_VERBS.values()):
        for s, ing, base in table:
            if s.split()[0] == head or base.split()[0] == head:
                return f"{ing.split()[0]} {rest}".strip()
    forms = {"moves": "moving", "move": "moving", "travels": "travelling", "travel": "travelling"}
    return f"{forms.get(head, head)} {rest}".strip()


def write_caption(pairs: list[tuple[str, str]], speed: str, rng: np.random.Generator) -> str:
    """A paraphrased caption of ``(translation, rotation)`` segments."""
    imperative = rng.random() < 0.3
    form = 2 if imperative else 0
    phrases = [_verb(rng, t, r, form) for t, r in pairs]
    adverb = _pick(rng, _ADVERBS[speed])
    if adverb and rng.random() < 0.6:
        i = int(rng.integers(len(phrases)))
        phrases[i] = f"{adverb} {phrases[i]}" if rng.random() < 0.5 else f"{phrases[i]} {adverb}"
    if len(phrases) == 1:
        body = phrases[0] + _pick(rng, ("", " throughout the shot", " for the whole shot", ""))
    else:
        joiner = _pick(rng, (", then ", " and then ", ", after that ", ". Then "))
        last = _pick(rng, (", and finally ", ", then finally ", " and finally ", ", then "))
        body = joiner.join(phrases[:-1]) + (last if len(phrases) > 2 else joiner) + phrases[-1]
    text = body if imperative else _pick(rng, ("The camera ", "The camera ", "Camera ", "The shot ")) + body
    text = text[0].upper() + text[1:]
    return text + ("." if rng.random() < 0.8 else "")


def synthetic_shot(rng: np.random.Generator, max_tries: int = 50) -> SyntheticShot:
    """One shot whose tags equal its intended segments (retries until the tagger agrees)."""
    for _ in range(max_tries):
        count = int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.25, 0.1]))
        pairs: list[tuple[str, str]] = []
        while len(pairs) < count:
            pair = _random_label(rng)
            if not pairs or pair != pairs[-1]:
                pairs.append(pair)
        # durations vary ±15 % around an even split: a caption says nothing about timing, and a wider spread
        # only teaches a model to hedge about when to move on (greedy decoding then never does)
        weights = rng.uniform(0.85, 1.15, size=count)
        frames = np.maximum(np.round(weights / weights.sum() * FRAMES).astype(int), 1)
        frames[-1] = FRAMES - frames[:-1].sum()
        speed = str(rng.choice(["slow", "mid", "fast"]))
        move = None
        for (translation, rotation), n in zip(pairs, frames, strict=True):
            segment = _segment_move(translation, rotation, float(n) / FPS, speed, rng)
            move = segment if move is None else move.then(segment)
        # monocular scale is arbitrary: the farthest camera is 1 unit from the first
        camera = move.path(fps=FPS, frames=FRAMES, size=(512, 288)).normalise_scale()[0]
        segments = tag(camera)
        if [(s.translation, s.rotation) for s in segments] == pairs:  # tag() merges equal neighbours itself
            return SyntheticShot(camera=camera.replace(meta={"speed": speed}),
                                 caption=write_caption(pairs, speed, rng), segments=segments)
    raise RuntimeError("could not build a shot the tagger agrees with")  # pragma: no cover - never seen


def synthetic_shots(count: int, seed: int) -> Iterator[SyntheticShot]:
    """``count`` shots from one seed (different seeds → independent sets, e.g. training vs held-out)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield synthetic_shot(rng)
