"""Logistics solutions (物流解决方案) category plugin.

Besides KPIs, documents, fees and a profile, this plugin brings its own table
(`logistics_lanes`: the origin → destination lanes a provider ships, by transport mode) with
its own Alembic branch, so the core never needs to know about it.
"""
