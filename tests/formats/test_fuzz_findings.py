"""What the 10 000-example fuzzing run (``scripts/fuzz.sh``) found, pinned.

A bit flip that turns a byte into a backslash inside a prompt list's string or an ``.npy`` header made
Python's literal parser print ``<unknown>:1: DeprecationWarning: invalid escape sequence '\\c'`` to the
user (and Python 3.12+ makes it a SyntaxWarning, later an error). Such files are refused by name, silently.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit.formats.images import load_depth


def refused_without_warnings(read, *args, match: str, **kwargs) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(trajkit.FormatError, match=match):
            read(*args, **kwargs)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("text", [r"['a fox\c']", r"['a\\', 'b\q']", "['ok',\n 'c:\\dog']"])
def test_an_invalid_escape_in_a_prompt_list_is_refused_by_name(tmp_path: Path, text: str) -> None:
    path = tmp_path / "entity_zoo.txt"
    path.write_text(text)
    refused_without_warnings(trajkit.load, path, format="prompt-list", match=r"invalid escape .*\\[cqd]")


def test_valid_escapes_in_a_prompt_list_still_read(tmp_path: Path) -> None:
    path = tmp_path / "entity_zoo.txt"
    path.write_text(r"['a \\ b', 'tab\there', 'quote\'s', '\x41\u00e9\N{BULLET}', 'line\
joined']")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        items = trajkit.load(path, format="prompt-list").items
    assert items == ("a \\ b", "tab\there", "quote's", "Aé•", "linejoined")
    path.write_text(r"['a fox\c']")  # the same reader, before: accepted with the warning on stderr
    refused_without_warnings(trajkit.load, path, format="prompt-list", match="invalid escape")


def npy_with_backslash(arr: np.ndarray) -> bytes:
    """``np.save`` bytes whose header's dtype string ``'<f4'`` became ``'\\c4'``."""
    buf = io.BytesIO()
    np.save(buf, arr)
    data = buf.getvalue()
    at = data.index(b"'descr': '") + len(b"'descr': '")
    return data[:at] + b"\\c" + data[at + 2:]


def test_a_backslash_in_an_npy_header_is_refused_silently(tmp_path: Path) -> None:
    tracks = tmp_path / "x_tracks.npy"
    tracks.write_bytes(npy_with_backslash(np.zeros((4, 3, 2), np.float32)))
    refused_without_warnings(trajkit.load, tracks, format="wanmove-npy", match="header")
    depth = tmp_path / "depth.npy"
    depth.write_bytes(npy_with_backslash(np.ones((4, 6), np.float32)))
    refused_without_warnings(load_depth, depth, match="header")


def test_a_backslash_in_an_npz_member_header_is_refused_silently(tmp_path: Path) -> None:
    tracks = trajkit.Tracks(xy=np.zeros((3, 2, 2), np.float32), visible=np.ones((3, 2), bool), size=(8, 8), fps=8)
    path = tmp_path / "t.npz"
    trajkit.save(tracks, path)
    import zipfile

    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members["xy.npy"] = npy_with_backslash(np.zeros((3, 2, 2), np.float32))
    with zipfile.ZipFile(path, "w") as zf:  # stored, as np.savez writes
        for name, blob in members.items():
            zf.writestr(name, blob)
    refused_without_warnings(trajkit.load, path, match="header")
