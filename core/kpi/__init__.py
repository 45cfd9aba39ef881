"""KPIs: metric definitions, observations and the reporting API, aggregations, evaluation
into scorecards, scoring and early-warning alerts.
"""
