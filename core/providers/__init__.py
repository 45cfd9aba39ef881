"""Providers (服务商): registration, identity-number checks, marketplaces and the category
profiles a plugin declares for its category.
"""
