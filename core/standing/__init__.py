"""Standing: what scores and violations lead to — the sanction ladder, tiers, violations
and vetoes, probation and renewal recommendations, and appeals that undo them.
"""
