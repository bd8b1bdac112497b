"""Pages: route + composition only."""
