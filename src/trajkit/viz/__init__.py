"""Visualisation: track overlays, camera three-view plots, entity plots, HTML report."""
