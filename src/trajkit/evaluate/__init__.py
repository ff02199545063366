"""Metrics: track adherence, camera pose error, GenDoP metrics, entity pose error."""
