"""GraphQL of the identity domain: its types, operations and contributed fields."""
