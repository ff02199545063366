"""Atomic writes: a file that cannot be written is a TrajkitError naming it and the system's reason, never a raw
OSError, and no temporary file is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

import trajkit
from trajkit.core.errors import TrajkitError
from trajkit.formats._io import atomic_write, atomic_write_text
from trajkit.formats.images import bundled_example


def test_saving_below_a_file_names_the_file_in_the_way(tmp_path: Path) -> None:
    camera = trajkit.load(bundled_example("camera"))
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(TrajkitError, match=r"taken/a\.json: cannot write the file \(.*taken is not a folder\)"):
        trajkit.save(camera, tmp_path / "taken" / "a.json")
    with pytest.raises(TrajkitError, match=r"cannot write the file \(Not a directory"):
        trajkit.save(camera, tmp_path / "taken" / "deeper" / "a.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")

    def full_disk(fh: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(TrajkitError, match=r"out\.json: cannot write the file \(No space left on device\)"):
        atomic_write(target, full_disk)
    with pytest.raises(TrajkitError, match=r"cannot write the file \(Is a directory\)"):
        atomic_write_text(tmp_path, "x")  # the target is a folder: the rename fails
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_other_errors_from_the_writer_pass_through(tmp_path: Path) -> None:
    def broken(fh: object) -> None:
        raise ValueError("not serialisable")

    with pytest.raises(ValueError, match="not serialisable") as info:
        atomic_write(tmp_path / "a.bin", broken)
    assert not isinstance(info.value, TrajkitError) and list(tmp_path.iterdir()) == []
