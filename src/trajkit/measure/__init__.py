"""Video → controls: point trackers and camera estimation."""
