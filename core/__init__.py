"""LinkStar core: providers, applications, documents, KPI observations and the plugin contract.

The core speaks only in generic terms. Everything a service category knows (its metrics,
documents, fees, profile and GraphQL types) arrives through the hooks in `hookspecs`.
"""
