"""Loopback simulators of external systems (Kasm, Discord) for the demo, tests and benchmarks."""
