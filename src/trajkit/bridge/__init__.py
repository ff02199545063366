"""Conversions between controls: camera + depth → tracks, entities + camera → tracks, camera on object tracks."""

from .camera_to_tracks import camera_to_tracks, grid_points
from .compose import add_camera_motion
from .entities_to_tracks import entities_to_tracks, entity_points

__all__ = ["add_camera_motion", "camera_to_tracks", "entities_to_tracks", "entity_points", "grid_points"]
