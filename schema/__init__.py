"""The GraphQL layer: one package per domain, composed into one schema in `compose`.

The kernel's enums get their GraphQL names and descriptions in `vocabulary`, imported here
first so every type that mentions them sees the same definition.
"""

from linkstar.schema import vocabulary  # noqa: F401
