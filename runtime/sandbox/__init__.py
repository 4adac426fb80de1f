"""A seeded, simulated LinkedIn and email world (demo, simulation, tests). See world.py."""
