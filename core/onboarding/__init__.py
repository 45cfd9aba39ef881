"""Onboarding (入驻): applications and their state table, documents, agreements, review,
interviews and probation, with what each category decides about them (`policy`).
"""
