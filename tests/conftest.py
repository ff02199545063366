"""Shared fixtures: the real test data lives in ../shared/data relative to the project root."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` (fails loudly if the checkout has no shared data beside it)."""
    assert DATA.is_dir(), f"shared test data not found at {DATA}"
    return DATA


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium for the browser tests: required in CI (scripts/test.sh installs it), else skipped."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; scripts/test.sh installs Debian's chromium in CI")
        pytest.skip("Chromium not installed (scripts/test.sh installs it when run as root or in CI)")
    return exe
