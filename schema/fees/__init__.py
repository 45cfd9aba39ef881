"""GraphQL of the fees domain: its types, operations and contributed fields."""
