"""Shared fixtures: the real test data lives in ../shared/data relative to the project root."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` (fails loudly if the checkout has no shared data beside it)."""
    assert DATA.is_dir(), f"shared test data not found at {DATA}"
    return DATA
