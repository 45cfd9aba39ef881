"""The kernel: what every domain shares and nothing domain-specific.

Database plumbing (`db`), errors with stable codes, `Money`, evaluation periods, the
platform-wide vocabulary, content-addressed storage, configuration and the domain event log
that every timeline is written to. The kernel imports no domain.
"""
