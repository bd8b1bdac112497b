"""EZSCALE: billing and customer platform for a hosting company."""
