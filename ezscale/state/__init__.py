"""Reflex state classes: thin, they call services and hold what a page shows."""
