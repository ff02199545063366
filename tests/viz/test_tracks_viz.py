"""Track drawings: colours, scaling with the image, trails, and MP4 round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trajkit import Tracks, ValidationError
from trajkit.viz.tracks import PALETTE, draw_tracks, overlay_tracks
from trajkit.viz.video import read_mp4, write_mp4


def line_tracks(size: tuple[int, int], frames: int = 21) -> Tracks:
    w, h = size
    x = np.linspace(0.2 * w, 0.8 * w, frames)
    xy = np.stack([x, np.full(frames, 0.5 * h)], axis=-1)[:, None]
    return Tracks(xy=xy, visible=np.ones((frames, 1), bool), size=size, fps=8)


def test_still_drawing_colours_and_scale() -> None:
    for scale in (1, 3):
        size = (320 * scale, 240 * scale)
        img = np.full((size[1], size[0], 3), 200, np.uint8)
        out = draw_tracks(img, line_tracks(size))
        assert (out[5, 5] == 150).all()  # background only dimmed by 25 %
        sx, y = int(0.2 * size[0]), int(0.5 * size[1])
        assert out[y, sx, 1] > 200 and out[y, sx, 0] < 80  # start dot: green
        red = (out[..., 0] > 200) & (out[..., 1] < 80)
        green = (out[..., 1] > 200) & (out[..., 0] < 80)
        assert red.any() and green.any()
        if scale == 1:
            green_1 = green.sum()
        else:
            assert green.sum() == pytest.approx(9 * green_1, rel=0.35)  # sizes scale with the image


def test_still_drawing_ramp_runs_green_to_red_along_the_path() -> None:
    """Segment ``t`` of ``T − 1`` is drawn in ``(255·f, 255·(1 − f), 0)`` with ``f = t / (T − 2)`` (ATI's ramp:
    green at the start, red at the end); sampled mid-segment on the line, clear of the start dot and arrowhead."""
    size, frames = (640, 480), 21
    tracks = line_tracks(size, frames)
    out = draw_tracks(np.full((size[1], size[0], 3), 200, np.uint8), tracks)
    y = round(tracks.xy[0, 0, 1])
    for t in (4, 7, 10, 13, 15):
        x = round((tracks.xy[t, 0, 0] + tracks.xy[t + 1, 0, 0]) / 2)
        f = t / (frames - 2)
        np.testing.assert_allclose(out[y, x].astype(float), [255 * f, 255 * (1 - f), 0], atol=20, err_msg=f"t={t}")


def test_overlay_newest_is_opaque_trail_fades_and_hidden_tracks_vanish() -> None:
    size = (320, 240)
    tracks = line_tracks(size)
    vis = tracks.visible.copy()
    vis[15:] = False
    frames = np.full((21, 240, 320, 3), 100, np.uint8)
    out = overlay_tracks(frames, tracks.replace(visible=vis), retain=6)
    t = 10
    x, y = np.round(tracks.xy[t, 0]).astype(int)
    np.testing.assert_array_equal(out[t, y, x], PALETTE[0].astype(np.uint8))
    old = np.round(tracks.xy[t - 5, 0]).astype(int)
    blended = out[t, old[1], old[0]].astype(float)
    assert 100 < blended[0] < PALETTE[0][0]  # older positions are faded
    assert (out[t, :, :40] == 100).all()  # nothing left of the first position
    assert (out[16:] == 100).all()  # invisible from frame 15 on: no trail drawn
    with pytest.raises(ValidationError):
        overlay_tracks(frames[:5], tracks)


@pytest.mark.parametrize("retain", [0, -3, 2.5])
def test_overlay_refuses_a_trail_shorter_than_one_frame(retain: float) -> None:
    tracks = line_tracks((64, 48), frames=5)
    with pytest.raises(ValidationError) as err:
        overlay_tracks(np.zeros((5, 48, 64, 3), np.uint8), tracks, retain=retain)
    assert err.value.field == "retain"


def test_mp4_round_trip(tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:121, 0:161]
    frames = np.stack([np.stack([(xx + 3 * t) % 256, yy * 2, np.full_like(xx, 128)], -1) for t in range(9)])
    frames = frames.astype(np.uint8)
    path = write_mp4(tmp_path / "v.mp4", frames, fps=16)
    back, fps = read_mp4(path)
    assert back.shape == (9, 122, 162, 3) and fps == pytest.approx(16)  # odd sizes padded to even
    assert np.abs(back[:, :121, :161].astype(int) - frames).mean() < 4
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]
