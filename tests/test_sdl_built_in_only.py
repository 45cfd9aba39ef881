"""The committed SDL and its test cover the built-in plugins only: installing a third-party
plugin breaks no core test, and `schema export` never writes it into the core's SDL (issue
#12, point 13)."""

from __future__ import annotations

from pathlib import Path

from linkstar.core.contract.registry import load_built_in_registry, load_registry
from linkstar.schema.compose import compose_schema, sdl
from tests.harness import REPO
from tests.test_cli import run
from tests.test_third_party_plugin import installed  # noqa: F401  (fixture)

COMMITTED = REPO / "schema" / "schema.graphql"


def test_the_committed_sdl_ignores_an_installed_plugin(installed: Path, tmp_path: Path) -> None:
    assert "sourcing" in load_registry().categories  # the plugin is installed and loads
    committed = COMMITTED.read_text()
    assert "SourcingProfile" not in committed
    assert sdl(compose_schema(load_built_in_registry())) == committed

    environment = {"PYTHONPATH": str(installed)}
    exported = run("schema", "export", "--output", str(tmp_path / "core.graphql"), **environment)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "core.graphql").read_text() == committed
    whole = run("schema", "export", "--installed", **environment)
    assert whole.returncode == 0, whole.stderr
    assert "type SourcingProfile" in whole.stdout
