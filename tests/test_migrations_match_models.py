"""The Alembic history builds exactly the tables the models declare (both databases)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import linkstar.core.runtime.tables  # noqa: F401  every core table on Base.metadata
from linkstar.core.kernel.db import Base


def test_the_migrated_database_matches_the_models(sync_engine) -> None:
    with sync_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "compare_server_default": False}
        )
        differences = [
            d
            for d in compare_metadata(context, Base.metadata)
            # tables of plugins and Alembic's own bookkeeping are not core models
            if not (d[0] == "remove_table" and d[1].name in {"alembic_version", "logistics_lanes"})
            and not (d[0] == "remove_index" and d[1].table.name == "logistics_lanes")
        ]
    assert differences == [], "\n".join(str(d) for d in differences)
