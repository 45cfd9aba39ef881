"""logistics plugin."""
