"""SQL statements per GraphQL request as the number of providers returned grows.

    .venv/bin/python benchmarks/statements.py [LINKSTAR_DATABASE_URL]

Creates a scratch SQLite database (or uses the given empty database), loads the demo data set
plus extra providers, and prints the statement count of one nested query at several page sizes.
The count must stay flat: lists resolve through batched loaders.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from sqlalchemy import event

from linkstar.core.contract.registry import load_registry
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.config import async_database_url
from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.vocabulary import Role
from linkstar.core.runtime.demo import load_demo
from linkstar.core.runtime.migrate import upgrade
from linkstar.schema.compose import compose_schema
from linkstar.schema.context import Context

STAFF = Viewer(account_id=1, role=Role.REVIEWER, label="benchmark reviewer")

QUERY = """query($n: Int) { providers(first: $n) { totalCount edges { node {
  legalName marketplaces
  categoryProfiles { __typename category { key } }
  applications(first: 5) { totalCount edges { node { status tier category { key } provider { legalName } } } }
  documents(first: 5) { totalCount edges { node { sha256 } } }
  observations(first: 20) { totalCount edges { node { value metric { key threshold } } } }
  publicStandings { category standing }
  scorecards(first: 3) { edges { node { composite standing } } }
} } } }"""


async def main(raw_url: str) -> None:
    url = async_database_url(raw_url)
    registry = load_registry()
    await asyncio.to_thread(upgrade, url, registry)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo(session, registry, per_category=25)
    schema = compose_schema(registry)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    print(f"{'providers returned':>20s} {'statements':>11s}")
    for n in (1, 10, 50, 100):
        statements.clear()
        context = Context(registry=registry, settings=None, sessionmaker=sessions)  # type: ignore[arg-type]
        context.viewer = STAFF  # staff see every private list, so every loader runs
        result = await schema.execute(QUERY, variable_values={"n": n}, context_value=context)
        assert result.errors is None, result.errors
        print(f"{len(result.data['providers']['edges']):>20d} {len(statements):>11d}")
    await engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(main(f"sqlite:///{Path(tmp) / 'bench.db'}"))
