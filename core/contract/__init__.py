"""The plugin contract: the hooks a plugin implements (`hookspecs`) and the registry that
discovers plugins, calls those hooks once at start-up and validates every contribution.
"""
