"""GraphQL of the standing domain: its types, operations and contributed fields."""
