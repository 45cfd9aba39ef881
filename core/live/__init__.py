"""Live: domain events fanned out to subscribers and webhooks."""
