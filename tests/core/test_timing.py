"""Frame-index rules: ATI's 121 → 81 nearest rule and ComfyUI WanTrackToVideo's gcd rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trajkit.core.timing import ati_frame_indices, fps_keeping_duration, time_positions


def wan_track_to_video_reference(n_out: int, n_in: int = 121) -> np.ndarray:
    """Straightforward implementation of the spec's procedure: repeat frames 1.. b times, take every a-th row."""
    g = math.gcd(n_in - 1, n_out - 1)
    a, b = (n_in - 1) // g, (n_out - 1) // g
    rows = np.repeat(np.arange(1, n_in), b)
    return np.concatenate([[0], rows[1::a]])


def test_ati_81_is_floor_three_halves() -> None:
    idx = ati_frame_indices(81)
    assert len(idx) == 81
    np.testing.assert_array_equal(idx, [math.floor(3 * j / 2) for j in range(81)])
    assert list(idx[:8]) == [0, 1, 3, 4, 6, 7, 9, 10] and idx[-1] == 120


@pytest.mark.parametrize("n_out", [5, 9, 17, 21, 33, 49, 57, 65, 81, 97])
def test_matches_wan_track_to_video(n_out: int) -> None:
    np.testing.assert_array_equal(ati_frame_indices(n_out), wan_track_to_video_reference(n_out))


@pytest.mark.parametrize("n_out", [121, 241])
def test_degenerate_lengths_keep_every_frame_in_range(n_out: int) -> None:
    # ComfyUI returns one frame too few here; trajkit returns n_out frames, in range, covering the track.
    idx = ati_frame_indices(n_out)
    assert len(idx) == n_out and idx.min() == 0 and idx.max() == 120
    assert (np.diff(idx) >= 0).all()
    if n_out == 121:
        np.testing.assert_array_equal(idx, np.arange(121))


def test_time_positions_and_duration() -> None:
    np.testing.assert_allclose(time_positions(5, 8.0, 100, 24.0), [0, 3, 6, 9, 12])
    assert time_positions(10, 1.0, 4, 1.0)[-1] == 3  # clamped past the end
    assert fps_keeping_duration(81, 121, 24.0) == pytest.approx(16.0)
