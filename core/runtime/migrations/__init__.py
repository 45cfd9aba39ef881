"""Alembic environment and the core's revisions (plugins bring their own, see hookspecs)."""
