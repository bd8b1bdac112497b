"""Shared components: the branded shell and its pieces."""
