"""Conversions between controls: camera + depth → tracks, entities + camera → tracks."""

from .camera_to_tracks import camera_to_tracks, grid_points

__all__ = ["camera_to_tracks", "grid_points"]
