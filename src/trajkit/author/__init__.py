"""Constructive authoring of camera moves, track shapes and entity templates (see issue: authoring)."""
