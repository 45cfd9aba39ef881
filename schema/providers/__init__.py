"""GraphQL of the providers domain: its types, operations and contributed fields."""
