"""GraphQL of the marketplace: stores, service requests, offers, orders."""
