"""The web studio (FastAPI + static front end) for authoring controls."""
