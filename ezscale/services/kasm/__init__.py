"""Kasm cloud workspaces: the Kasm API client, ordering and running workspaces, usage metering and
billing per started 15 minutes, templates, live change signal.
"""
