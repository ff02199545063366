"""Conversions between controls: camera + depth → tracks, entities + camera → tracks."""

from .camera_to_tracks import camera_to_tracks, grid_points
from .entities_to_tracks import entities_to_tracks, entity_points

__all__ = ["camera_to_tracks", "entities_to_tracks", "entity_points", "grid_points"]
