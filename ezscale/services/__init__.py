"""Business logic as plain Python over a database session (no Reflex imports)."""
