"""The Alembic history builds exactly the tables the models declare (both databases)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

import linkstar.core.runtime.tables  # noqa: F401  every core table on Base.metadata
from linkstar.core.contract.registry import load_registry
from linkstar.core.kernel.db import Base
from linkstar.core.runtime.migrate import alembic_config
from linkstar.core.runtime.revisions import head_revisions, heads_of


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


def test_the_heads_serve_checks_are_alembics_heads(tmp_path) -> None:
    # `linkstar serve` reads the revision files instead of importing Alembic: same heads
    registry = load_registry()
    config = alembic_config(URL.create("sqlite"), registry)
    assert head_revisions(registry) == set(ScriptDirectory.from_config(config).get_heads())
    # given a branch merged by a revision with a tuple of parents, in the newer annotated style
    (tmp_path / "a.py").write_text("revision = 'a'\ndown_revision = None\n")
    (tmp_path / "b.py").write_text("revision: str = 'b'\ndown_revision: str | None = 'a'\n")
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    assert heads_of([tmp_path]) == {"b", "c"}
    (tmp_path / "d.py").write_text("revision = 'd'\ndown_revision = ('b', 'c')\n")
    assert heads_of([tmp_path]) == {"d"}
