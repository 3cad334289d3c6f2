"""The shared vocabulary at the bottom of the house: storage URLs, objectives and constraints, the
trials table's columns. It imports nothing of ablate but the errors, and everything may import it."""
