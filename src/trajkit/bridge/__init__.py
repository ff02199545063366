"""Conversions between controls: camera + depth → tracks, entities + camera → tracks."""
