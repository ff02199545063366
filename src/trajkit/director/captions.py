"""Captions from tagged segments, and back.

:func:`caption` writes a DataDoP-style ``Movement`` caption from segments with varied phrasing
("The camera moves right while yawing left, then shifts right and forward, and finally remains static.").
:func:`parse_caption` reads a caption of that grammar (and common synonyms: pan/tilt for yaw/pitch, push
in / pull back, dolly, truck, pedestal) back into the ``(translation, rotation)`` of each segment, which is
what caption-based evaluation compares against the tags of a generated path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .tagging import ROTATIONS, TRANSLATIONS, Segment

_MOVE_VERBS = ("moves", "shifts", "travels", "glides")
_STATIC = ("remains static", "holds still", "stays still", "holds a static position")
_ROT_VERB = {"pitch": ("pitches", "pitching"), "yaw": ("yaws", "yawing"), "roll": ("rolls", "rolling")}
_JOIN_WHILE = ("{move} while {rot_ing}", "{move}, {rot_ing}", "{move} as it {rot_s}")


def _rotation_words(rotation: str) -> tuple[str, str]:
    """``"yaw left"`` → (``"yaws left"``, ``"yawing left"``)."""
    kind, direction = rotation.split()
    s, ing = _ROT_VERB[kind]
    return f"{s} {direction}", f"{ing} {direction}"


def segment_phrase(translation: str, rotation: str, rng: np.random.Generator | None = None, again: bool = False) -> str:
    """One segment as a verb phrase ("moves left and forward while yawing right")."""
    pick = (lambda options: options[int(rng.integers(len(options)))]) if rng is not None else (lambda o: o[0])
    if translation == "static" and rotation == "static":
        phrase = pick(_STATIC)
    elif translation == "static":
        rot_s, _ = _rotation_words(rotation)
        phrase = f"{rot_s} in place"
    else:
        move = f"{pick(_MOVE_VERBS)} {translation}"
        if rotation == "static":
            phrase = move
        else:
            rot_s, rot_ing = _rotation_words(rotation)
            phrase = pick(_JOIN_WHILE).format(move=move, rot_ing=rot_ing, rot_s=rot_s)
    return phrase + (" again" if again else "")


def caption(segments: Sequence[Segment | tuple[str, str]], seed: int | None = None) -> str:
    """A caption for segments (or ``(translation, rotation)`` pairs); ``seed`` varies the phrasing, ``None``
    gives the plain form."""
    rng = np.random.default_rng(seed) if seed is not None else None
    pairs = [(s.translation, s.rotation) if isinstance(s, Segment) else tuple(s) for s in segments]
    if not pairs:
        return "The camera remains static."
    phrases = [segment_phrase(t, r, rng, again=(t, r) in pairs[:i]) for i, (t, r) in enumerate(pairs)]
    if len(phrases) == 1:
        body = phrases[0] + " throughout the shot"
    elif len(phrases) == 2:
        body = f"{phrases[0]}, then {phrases[1]}"
    else:
        body = ", then ".join(phrases[:-1]) + f", and finally {phrases[-1]}"
    return f"The camera {body}."


_ROT_VERBS = {"pitch": "pitch pitches pitching tilt tilts tilting look looks looking angle angles angling",
              "yaw": "yaw yaws yawing pan pans panning turn turns turning swing swings swinging",
              "roll": "roll rolls rolling bank banks banking"}
_ROT_KIND = {verb: kind for kind, verbs in _ROT_VERBS.items() for verb in verbs.split()}
_ROT_PATTERN = re.compile(r"\b(" + "|".join(_ROT_KIND) + r")\s+(up|down|left|right|clockwise|counterclockwise)\b")
_SYNONYMS = (
    (r"\bpush(es|ing)? in\b|\bdoll(y|ies|ying) in\b|\bzoom(s|ing)? in\b|\bapproach(es|ing)?\b|"
     r"\badvanc(e|es|ing)\b|\bcloser\b", " forward "),
    (r"\bpull(s|ing)? (back|out)\b|\bdoll(y|ies|ying) (out|back)\b|\bretreat(s|ing)?\b|\bback(s|ing)? away\b",
     " backward "),
    (r"\bforwards?\b|\bahead\b", " forward "), (r"\bbackwards?\b", " backward "),
    (r"\brises?\b|\brising\b|\bascend(s|ing)?\b|\bpedestal(s|ing)? up\b", " up "),
    (r"\bdescend(s|ing)?\b|\bsink(s|ing)?\b|\blower(s|ing)?\b|\bpedestal(s|ing)? down\b", " down "),
    (r"\btruck(s|ing)? left\b", " left "), (r"\btruck(s|ing)? right\b", " right "),
)
_CLAUSE_SPLIT = re.compile(r",?\s*\b(?:and then|then|and finally|finally|after that|afterwards|before)\b\s*,?")


def _clause_pair(clause: str) -> tuple[str, str] | None:
    rotation = "static"
    rot = _ROT_PATTERN.search(clause)
    if rot:
        kind = _ROT_KIND[rot.group(1)]
        direction = {"clockwise": "right", "counterclockwise": "left"}.get(rot.group(2), rot.group(2))
        valid = {"pitch": ("up", "down"), "yaw": ("left", "right"), "roll": ("left", "right")}[kind]
        if direction in valid:
            rotation = f"{kind} {direction}"
        clause = clause[: rot.start()] + " " + clause[rot.end():]
    for pattern, repl in _SYNONYMS:
        clause = re.sub(pattern, repl, clause)
    words = set(re.findall(r"[a-z]+", clause))
    x = "right" if "right" in words else "left" if "left" in words else ""
    y = "up" if "up" in words else "down" if "down" in words else ""
    z = "forward" if "forward" in words else "backward" if "backward" in words else ""
    parts = [p for p in (x, y, z) if p]
    if len(parts) == 0:
        translation = "static"
    elif len(parts) == 1:
        translation = parts[0]
    elif len(parts) == 2:
        translation = f"{parts[0]} and {parts[1]}"
    else:
        translation = f"{parts[0]}, {parts[1]}, and {parts[2]}"
    if not rot and not parts and not re.search(r"\b(static|still|stationary|hold|holds|holding|remain|remains|"
                                               r"stays?|stop|stops|pause|pauses)\b", clause):
        return None
    return translation, rotation


def parse_caption(text: str) -> list[tuple[str, str]]:
    """The ``(translation, rotation)`` of each segment a caption describes, in order (consecutive repeats
    merged). Words that name no motion are ignored; a clause with no motion word is dropped."""
    lowered = text.lower().replace("’", "'")
    pairs: list[tuple[str, str]] = []
    for clause in _CLAUSE_SPLIT.split(lowered):
        pair = _clause_pair(clause)
        if pair is not None and (not pairs or pairs[-1] != pair):
            pairs.append(pair)
    return pairs


def label_of(translation: str, rotation: str) -> int:
    """The tagger label of a ``(translation, rotation)`` pair."""
    return TRANSLATIONS.index(translation) * len(ROTATIONS) + ROTATIONS.index(rotation)


def unknown_motion_warning(prompt: str) -> str | None:
    """A warning when ``prompt`` names no camera motion the director's captions use (``None`` when it does):
    the director then writes a path anyway, which is a guess. The CLI (``trajkit direct``, ``--strict``) and the
    studio show the same text."""
    if parse_caption(prompt):
        return None
    return (f"the prompt {prompt!r} names no camera motion the director knows (it knows directions — left, right, "
            "up, down, forward, backward — and moves: pan, tilt, roll, push in, pull back, dolly, truck, pedestal, "
            "rise, descend, static)")
