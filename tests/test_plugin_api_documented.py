"""The public plugin API is documented: every name `linkstar.schema.plugin_api` exports appears in
docs/plugin-api.md, and the page names nothing the module does not export (as datasette tests
that every hook is documented)."""

from __future__ import annotations

import re

from linkstar.schema import plugin_api
from tests.harness import REPO

PAGE = REPO / "docs" / "plugin-api.md"


def documented() -> set[str]:
    """The names in the first column of the page's tables."""
    names: set[str] = set()
    for line in PAGE.read_text().splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", line.split(" | ")[0]))
    return names


def test_every_exported_name_is_documented() -> None:
    assert sorted(set(plugin_api.__all__) - documented()) == []


def test_the_page_documents_only_exported_names() -> None:
    assert sorted(documented() - set(plugin_api.__all__)) == []
