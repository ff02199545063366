"""``Tracks``: validation, resampling by time and by ATI's rule, canvas rescaling."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit import Tracks, ValidationError


def moving(T: int = 121, fps: float = 24.0, speed: float = 10.0) -> Tracks:
    """One track moving right at ``speed`` px/s from (100, 50); a second static one."""
    t = np.arange(T) / fps
    xy = np.zeros((T, 2, 2))
    xy[:, 0, 0] = 100 + speed * t
    xy[:, 0, 1] = 50
    xy[:, 1] = (20, 30)
    return Tracks(xy=xy, visible=np.ones((T, 2), bool), size=(400, 200), fps=fps)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"xy": np.full((3, 1, 2), np.nan)}, "xy"),
        ({"xy": np.zeros((3, 1, 3))}, "xy"),
        ({"xy": np.zeros((0, 1, 2)), "visible": np.zeros((0, 1), bool)}, "xy"),
        ({"visible": np.ones((4, 1), bool)}, "visible"),
        ({"visible": np.full((3, 1), 2)}, "visible"),
        ({"fps": 0}, "fps"),
        ({"fps": float("inf")}, "fps"),
        ({"size": (0, 10)}, "size"),
        ({"size": (10.5, 10)}, "size"),
    ],
)
def test_validation_names_the_field(kwargs: dict, field: str) -> None:
    base = {"xy": np.zeros((3, 1, 2)), "visible": np.ones((3, 1), bool), "size": (10, 10), "fps": 8}
    with pytest.raises(ValidationError) as info:
        Tracks(**{**base, **kwargs})
    assert info.value.field == field


def test_frozen_arrays() -> None:
    t = moving()
    with pytest.raises(ValueError):
        t.xy[0, 0, 0] = 1
    assert t.xy.dtype == np.float32 and t.visible.dtype == bool


def test_linear_resampling_by_time_is_exact_for_linear_motion() -> None:
    t = moving()
    r = t.resample(49, fps=8.0)
    expected_x = 100 + 10 * np.minimum(np.arange(49) / 8.0, 5.0)  # held after the 5 s track ends
    np.testing.assert_allclose(r.xy[:, 0, 0], expected_x, atol=1e-4)
    assert r.fps == 8.0 and r.num_frames == 49
    same = t.resample(t.num_frames)
    assert same.allclose(t, atol=1e-5)


def test_duration_kept_without_fps() -> None:
    r = moving().resample(81)
    assert r.fps == pytest.approx(16.0) and r.duration == pytest.approx(5.0)
    np.testing.assert_allclose(r.xy[-1, 0, 0], 150, atol=1e-4)


def test_ati_method_uses_index_rule() -> None:
    t = moving()
    r = t.resample(81, method="ati")
    idx = [int(np.floor(3 * j / 2)) for j in range(81)]
    np.testing.assert_array_equal(r.xy, t.xy[idx])
    assert r.fps == pytest.approx(16.0)


def test_visibility_when_blending() -> None:
    xy = np.zeros((3, 1, 2))
    vis = np.array([[True], [False], [True]])
    t = Tracks(xy=xy, visible=vis, size=(10, 10), fps=2)
    r = t.resample(5, fps=4)  # positions 0, .5, 1, 1.5, 2
    assert r.visible[:, 0].tolist() == [True, False, False, False, True]
    n = t.resample(5, fps=4, method="nearest")  # rounds half up: 0, 1, 1, 2, 2
    assert n.visible[:, 0].tolist() == [True, False, False, True, True]


def test_rescale_resize_and_crop() -> None:
    xy = np.array([[[0, 0], [400, 200], [200, 100]]], dtype=float)
    t = Tracks(xy=xy, visible=np.ones((1, 3), bool), size=(400, 200), fps=1)
    r = t.rescale((200, 200))
    np.testing.assert_allclose(r.xy[0], [[0, 0], [200, 200], [100, 100]])
    c = t.rescale((200, 200), mode="crop")  # scale by 1 (cover), crop 100 px each side
    np.testing.assert_allclose(c.xy[0], [[-100, 0], [300, 200], [100, 100]])
    assert r.size == c.size == (200, 200)


def test_unknown_canvas_is_explicit() -> None:
    t = moving().replace(size=None)
    with pytest.raises(ValidationError, match="size"):
        t.rescale((10, 10))


def test_select_concat_frames() -> None:
    t = moving()
    both = Tracks.concatenate([t.select([0]), t.select([1])])
    assert both.allclose(t, atol=0)
    assert t.frames(10, 20).num_frames == 10
    with pytest.raises(ValidationError):
        Tracks.concatenate([t, t.resample(10)])
