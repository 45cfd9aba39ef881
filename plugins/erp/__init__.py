"""erp plugin."""
