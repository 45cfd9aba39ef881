"""Live updates: subscriptions to domain events."""
