"""GraphQL of the onboarding domain: its types, operations and contributed fields."""
