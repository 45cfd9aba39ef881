"""GraphQL layer."""
