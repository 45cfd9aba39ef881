"""GraphQL of the kpi domain: its types, operations and contributed fields."""
