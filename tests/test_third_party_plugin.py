"""A third-party plugin, installed with pip, adds a category without any change to core/.

The package lives in tests/third_party/linkstar-sourcing and registers itself through the
`linkstar.plugins` entry-point group, exactly like the built-in plugins.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from linkstar.core.contract.registry import Registry, load_registry
from linkstar.core.identity.accounts import hash_password
from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from linkstar.schema.compose import compose_schema
from tests.harness import LOGIN, PASSWORD, REPO, TEST_SECRET, start_server

PACKAGE = REPO / "tests" / "third_party" / "linkstar-sourcing"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """pip-install the plugin into a private directory and put it on sys.path."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PACKAGE),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    for name in [m for m in sys.modules if m.startswith("linkstar_sourcing")]:
        del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture(scope="module")
def registry_with_plugin(installed: Path) -> Registry:
    return load_registry(Settings.from_env().disabled_plugins)


def test_the_plugin_is_discovered_through_its_entry_point(registry_with_plugin: Registry) -> None:
    plugin = next(p for p in registry_with_plugin.plugins if p.name == "sourcing")
    assert (plugin.distribution, plugin.version) == ("linkstar-sourcing", "1.0.0")
    assert "sourcing" in registry_with_plugin.categories


def test_its_types_and_fields_appear_in_the_composed_schema(registry_with_plugin: Registry) -> None:
    sdl = compose_schema(registry_with_plugin).as_str()
    assert "type SourcingProfile implements CategoryProfile & Node" in sdl
    assert "sourcingBadge: String @providerPrivate" in sdl  # guarded by the policy layer


def test_it_answers_queries_over_http(
    registry_with_plugin: Registry, migrated, db, tmp_path: Path
) -> None:
    from linkstar.core.runtime.app import create_app

    provider = models.Provider(
        legal_name="Yiwu Sourcing Partners",
        region=Region.MAINLAND_CHINA,
        registration_number="REG-SRC-0042",
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="sourcing", status=ApplicationStatus.ACTIVE
        )
    )
    spec = registry_with_plugin.categories["sourcing"].profile
    assert spec is not None
    db.add(
        models.CategoryProfileRow(
            provider_id=provider.id,
            category_key="sourcing",
            data=spec.validate({"factories_audited": 17, "sourcing_regions": ["Zhejiang"]}),
        )
    )
    db.add(
        models.Account(
            email="reviewer@linkstar.example",
            display_name="Reviewer",
            password_hash=hash_password(PASSWORD),
            role=Role.REVIEWER,
        )
    )
    db.commit()

    settings = Settings(
        database_url=migrated,
        environment="development",
        disabled_plugins=(),
        storage_dir=str(tmp_path),
        secret_key=TEST_SECRET,
    )
    uv, thread, url = start_server(create_app(settings, registry_with_plugin))
    query = """{
      serviceCategory(key: "sourcing") { name metrics { key threshold direction } requiredDocuments { key } }
      feeQuote(category: "sourcing", region: MAINLAND_CHINA, tier: REGULAR) { lines { ruleKey amount { amount currency } } }
      providers(filter: {category: "sourcing"}) { edges { node { sourcingBadge
        categoryProfiles { ... on SourcingProfile { factoriesAudited sourcingRegions } } } } } }"""
    try:
        anonymous = httpx.post(f"{url}/graphql", json={"query": query}).json()
        login = httpx.post(
            f"{url}/graphql",
            json={
                "query": LOGIN,
                "variables": {"email": "reviewer@linkstar.example", "password": PASSWORD},
            },
        ).json()
        token = login["data"]["login"]["accessToken"]
        staff = httpx.post(
            f"{url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        ).json()
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
    assert "errors" not in anonymous and "errors" not in staff, (anonymous, staff)
    data = anonymous["data"]
    assert data["serviceCategory"] == {
        "name": "Product sourcing",
        "metrics": [
            {"key": "sample_defect_rate", "threshold": "3", "direction": "LOWER_IS_BETTER"}
        ],
        "requiredDocuments": [{"key": "factory_audit_report"}],
    }
    assert data["feeQuote"]["lines"] == [
        {"ruleKey": "sourcing.listing_fee", "amount": {"amount": "1200.00", "currency": "CNY"}}
    ]
    # the plugin wrote no access checks, yet its field and profile are private to the provider
    assert data["providers"]["edges"][0]["node"] == {"sourcingBadge": None, "categoryProfiles": []}
    assert staff["data"]["providers"]["edges"][0]["node"] == {
        "sourcingBadge": "sourcing-checked:0042",
        "categoryProfiles": [{"factoriesAudited": 17, "sourcingRegions": ["Zhejiang"]}],
    }


def test_core_has_no_knowledge_of_any_category() -> None:
    """The core never names a category or a category-specific KPI."""
    words = ["agency", "logistics", "erp", "training", "sourcing", "gmv", "代运营"]
    for path in [*(REPO / "core").rglob("*.py"), *(REPO / "schema").rglob("*.py")]:
        text = path.read_text().lower()
        for word in words:
            assert f'"{word}' not in text and f"'{word}" not in text, f"{path} names {word!r}"
