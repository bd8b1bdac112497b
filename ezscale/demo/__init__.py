"""Demo data: seeding the demo platform and its history. Never imported by production services."""
