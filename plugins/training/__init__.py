"""training plugin."""
