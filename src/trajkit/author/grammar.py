"""A small move grammar: text such as ``"dolly in 1m over 2s, then pan left 30deg"`` → a camera :class:`Move`.

This is a command language, not free text (free text is the director's job). Grammar::

    program := step ( ("," | ";" | "then") step )*          steps run one after another
    step    := move ( ("and" | "while" | "+") move )*        moves in one step run together
    move    := VERB [DIRECTION] AMOUNT [option ...]  |  "hold" DURATION
    option  := ("over" | "for" | "in") DURATION               default 2 s
             | ("around" | "at") DISTANCE                      orbit / crane: distance to the framed point (3 m)
             | EASING                                          linear, ease-in, ease-out, ease-in-out (default), smooth

Verbs, their directions (the first is positive) and amount units:

======== ==================== ============================
verb     directions           amount
======== ==================== ============================
pan      right, left          degrees: ``30deg``, ``30°``
tilt     up, down             degrees
roll     right, left          degrees (right = clockwise)
truck    right, left          metres: ``1m``, ``50cm``
pedestal up, down             metres
dolly    in/forward, out/back metres
zoom     in, out              ratio: ``2x`` (out divides)
orbit    right, left, up, down degrees
crane    up, down             metres
======== ==================== ============================

Numbers may carry a sign instead of a direction (``pan -30deg``). Durations: ``2s``, ``500ms``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.errors import TrajkitError
from . import camera as mv

VERBS = {
    "pan": ({"right": 1, "left": -1}, "deg"),
    "tilt": ({"up": 1, "down": -1}, "deg"),
    "roll": ({"right": 1, "clockwise": 1, "left": -1, "counterclockwise": -1}, "deg"),
    "truck": ({"right": 1, "left": -1}, "m"),
    "pedestal": ({"up": 1, "down": -1}, "m"),
    "dolly": ({"in": 1, "forward": 1, "out": -1, "back": -1, "backward": -1}, "m"),
    "zoom": ({"in": 1, "out": -1}, "x"),
    "orbit": ({"right": 1, "left": -1, "up": 1, "down": -1}, "deg"),
    "crane": ({"up": 1, "down": -1}, "m"),
    "hold": ({}, "s"),
}
UNITS = {"deg": ("deg", 1.0), "degree": ("deg", 1.0), "degrees": ("deg", 1.0), "°": ("deg", 1.0),
         "m": ("m", 1.0), "cm": ("m", 0.01), "mm": ("m", 0.001), "x": ("x", 1.0),
         "s": ("s", 1.0), "sec": ("s", 1.0), "secs": ("s", 1.0), "seconds": ("s", 1.0), "ms": ("s", 0.001)}
EASINGS = {"linear": "linear", "ease-in": "ease-in", "ease-out": "ease-out", "ease-in-out": "ease-in-out",
           "smooth": "ease-in-out"}
STEP_SEPARATORS = {",", ";", "then"}
JOINERS = {"and", "while", "+"}

_TOKEN = re.compile(r"\s*(?:(?P<num>[-+]?(?:\d+\.?\d*|\.\d+))|(?P<word>[a-z][a-z-]*|°)|(?P<sep>[,;+]))", re.I)


class MoveSyntaxError(TrajkitError):
    """A move description that does not parse; names the token, its position and the valid choices."""

    def __init__(self, text: str, position: int, token: str, problem: str) -> None:
        self.text, self.position, self.token = text, position, token
        pointer = " " * position + "^"
        super().__init__(f"{problem} at position {position} ({token!r}); valid verbs: {', '.join(VERBS)}\n"
                         f"  {text}\n  {pointer}")


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "word", "sep", "end"
    text: str
    pos: int


def _tokenise(text: str) -> list[_Tok]:
    toks, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            bad = text[pos:].lstrip()
            where = len(text) - len(bad)
            raise MoveSyntaxError(text, where, bad.split()[0] if bad.split() else bad, "unexpected character")
        kind = m.lastgroup or "end"
        toks.append(_Tok(kind, m.group(kind).lower(), m.start(kind)))
        pos = m.end()
    toks.append(_Tok("end", "", len(text)))
    return toks


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenise(text)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.tok
        self.i += 1
        return tok

    def fail(self, problem: str, tok: _Tok | None = None) -> MoveSyntaxError:
        tok = tok or self.tok
        return MoveSyntaxError(self.text, tok.pos, tok.text or "end of text", problem)

    def quantity(self, want: str, what: str) -> float:
        num = self.tok
        if num.kind != "num":
            raise self.fail(f"expected {what}")
        self.take()
        unit_tok = self.tok
        if unit_tok.kind == "word" and unit_tok.text in UNITS:
            self.take()
            unit, scale = UNITS[unit_tok.text]
            if unit != want:
                raise self.fail(f"{what} needs a unit in {want}", unit_tok)
            return float(num.text) * scale
        if want == "deg":  # bare numbers are degrees for rotations; other quantities need units
            return float(num.text)
        raise self.fail(f"{what} needs a unit ({want})", unit_tok)

    def move(self) -> mv.Move:
        verb_tok = self.take()
        if verb_tok.kind != "word" or verb_tok.text not in VERBS:
            raise self.fail("expected a verb", verb_tok)
        directions, unit = VERBS[verb_tok.text]
        if verb_tok.text == "hold":
            return mv.hold(self.quantity("s", "a duration"))
        sign, vertical = 1.0, False
        if self.tok.kind == "word" and self.tok.text in directions:
            vertical = self.tok.text in ("up", "down") and verb_tok.text == "orbit"
            sign = directions[self.take().text]
        elif self.tok.kind == "word":
            raise self.fail(f"expected a direction for {verb_tok.text} ({', '.join(directions)})")
        amount = self.quantity(unit, f"an amount for {verb_tok.text}")
        duration, distance, easing = 2.0, 3.0, "ease-in-out"
        while self.tok.kind == "word" and self.tok.text not in STEP_SEPARATORS | JOINERS:
            word = self.take()
            if word.text in ("over", "for", "in"):
                duration = self.quantity("s", "a duration")
            elif word.text in ("around", "at"):
                distance = self.quantity("m", "a distance")
            elif word.text in EASINGS:
                easing = EASINGS[word.text]
            else:
                raise self.fail("expected over/for DURATION, around/at DISTANCE, an easing, a comma, "
                                "'then', 'and' or 'while'", word)
        if duration <= 0:
            raise self.fail("durations must be positive", verb_tok)
        if verb_tok.text == "zoom":
            if amount <= 0:
                raise self.fail("zoom ratios must be positive", verb_tok)
            return mv.zoom(amount if sign > 0 else 1 / amount, duration, easing)
        value = sign * amount
        if verb_tok.text == "orbit":
            return mv.orbit(value, distance, duration, easing, vertical=vertical)
        if verb_tok.text == "crane":
            return mv.crane(value, distance, duration, easing)
        return getattr(mv, verb_tok.text)(value, duration, easing)

    def step(self) -> mv.Move:
        move = self.move()
        while self.tok.text in JOINERS:
            self.take()
            move = move & self.move()
        return move

    def program(self) -> mv.Move:
        if self.tok.kind == "end":
            raise self.fail("empty move description")
        move = self.step()
        while self.tok.kind != "end":
            if self.tok.text not in STEP_SEPARATORS:
                raise self.fail("expected ',', ';', 'then', 'and' or the end")
            while self.tok.text in STEP_SEPARATORS:
                self.take()
            move = move.then(self.step())
        return move


def parse_moves(text: str) -> mv.Move:
    """Parse a move description (see the module docstring) into a :class:`~trajkit.author.camera.Move`."""
    return _Parser(text).program()
