"""Identity and access: accounts, sessions, API tokens, invitations, the policy that decides
who may do what, the audit log and rate limits.
"""
