"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright):
sign in, the charts draw the API's data, an alert raised by a report appears live, no console
errors. Screenshots are kept in var/artifacts/ (and copied to docs/screenshots/ when
LINKSTAR_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from linkstar.core.kernel.vocabulary import Role
from tests.harness import PASSWORD, REPO, Server, global_id
from tests.logistics_provider import evaluate, month_of_data, shipper  # noqa: F401 - the fixture

ARTIFACTS = REPO / "var" / "artifacts"
SCREENSHOTS = REPO / "docs" / "screenshots"
BUILT = REPO / "core" / "runtime" / "dashboard"
SOURCES = ["index.html", "package.json", "package-lock.json", "vite.config.js", "src"]
REPORT = (
    "mutation($r: [ObservationInput!]!) { reportObservations(records: $r) { accepted alerts } }"
)
LINE = 'mutation { setAlertThreshold(category: "logistics", metric: "on_time_delivery_rate", threshold: "98") }'


def source_hash() -> str:
    """The hash `dashboard/record-hash.mjs` records at build time, recomputed the same way:
    the inputs in their listed order, directories walked with each level's names sorted."""
    root = REPO / "dashboard"

    def walk(path: Path) -> list[Path]:
        if path.is_dir():
            return [
                f for child in sorted(path.iterdir(), key=lambda c: c.name) for f in walk(child)
            ]
        return [path]

    digest = hashlib.sha256()
    for file in (f for name in SOURCES for f in walk(root / name)):
        digest.update(file.relative_to(root).as_posix().encode() + b"\n")
        digest.update(file.read_bytes())
        digest.update(b"\n")
    return digest.hexdigest()


def test_the_shipped_assets_are_built_from_the_committed_sources() -> None:
    recorded = (BUILT / "SOURCES.sha256").read_text().strip()
    assert recorded == source_hash(), (
        "core/runtime/dashboard is stale: cd dashboard && npm ci && npm run build, then commit"
    )
    page = (BUILT / "index.html").read_text()
    for asset in (BUILT / "assets").iterdir():
        assert f"/assets/{asset.name}" in page  # no stale leftovers, nothing missing


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no chromium: apt-get install chromium (dev.py and .ci/run do)")
    return path


@pytest.fixture
def browser() -> Any:
    executable = chromium()
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


def open_page(browser: Any, server: Server, hash_: str) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/{hash_}")
    return page, errors


def sign_in_through_the_form(page: Any, email: str) -> None:
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form#signin button[type=submit]")
    page.wait_for_selector(f"#who:has-text('{email}')")


def keep(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    if os.environ.get("LINKSTAR_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / name, SCREENSHOTS / name)


def deliveries(count: int, late: int) -> list[dict]:
    now = datetime.now(UTC) - timedelta(minutes=1)
    return [
        {
            "category": "logistics",
            "metric": "on_time_delivery_rate",
            "subjectRef": f"p{i}",
            "observedAt": now.isoformat(),
            "value": "0" if i < late else "1",
            "idempotencyKey": f"live-{i}",
        }
        for i in range(count)
    ]


def test_the_partner_page_charts_the_api_data_and_shows_an_alert_live(
    server: Server, browser, shipper, sign_in, db
) -> None:
    admin = sign_in(Role.ADMIN)
    for month, lost in ((8, 0), (9, 3), (10, 1)):
        month_of_data(db, shipper.id, 2026, month, lost=lost)
        evaluate(admin, f"2026-{month:02d}")
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    page, errors = open_page(browser, server, "#partner")
    sign_in_through_the_form(page, partner.email)
    page.wait_for_selector("main[data-ready=partner]")
    # KPI cards from the latest scorecard, against the platform threshold
    card = page.locator(".card[data-metric=loss_damage_rate]")
    assert "0.5" in card.inner_text()  # 1 of 200 lost in October = 0.5%, at the threshold
    # one trend chart per metric, drawn from metricTrend: the same values as the API's
    trend = partner(
        'query($id: ID!) { provider(id: $id) { metricTrend(category: "logistics", '
        'metric: "loss_damage_rate", periods: 6) { period value } } }',
        {"id": global_id("Provider", shipper.id)},
    )["provider"]["metricTrend"]
    assert [p["period"] for p in trend] == ["2026-08", "2026-09", "2026-10"]
    canvas = page.wait_for_selector("canvas[data-trend='logistics:loss_damage_rate'][data-values]")
    assert json.loads(canvas.get_attribute("data-values")) == [
        None if p["value"] is None else float(p["value"]) for p in trend
    ]
    drawn = page.evaluate(
        """() => { const c = document.querySelector("canvas[data-trend='logistics:loss_damage_rate']");
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let ink = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) ink++; return ink; }"""
    )
    assert drawn > 500  # the canvas has been painted
    # an alert raised by a report arrives without a reload
    partner(LINE)
    assert partner(REPORT, {"r": deliveries(50, late=2)})["reportObservations"]["alerts"] == 1
    live = page.wait_for_selector("#alerts li.new", timeout=20_000)
    assert "on_time_delivery_rate" in live.inner_text() and "INTERNAL" in live.inner_text()
    keep(page, "partner.png")
    # Chinese labels
    page.click("#lang")
    page.wait_for_selector("text=KPI 与平台门槛对比")
    page.click("#lang")
    assert errors == []


def test_the_operator_page_and_the_directory(
    server: Server, browser, shipper, sign_in, db, staff
) -> None:
    admin = sign_in(Role.ADMIN)
    month_of_data(db, shipper.id, 2026, 10, lost=4)
    evaluate(admin, "2026-10")
    page, errors = open_page(browser, server, "#operator")
    sign_in_through_the_form(page, staff.email)
    page.wait_for_selector("main[data-ready=operator]")
    text = page.inner_text("main")
    assert "logistics" in text and "Ningbo Freight" in text  # failing: 2% lost
    keep(page, "operator.png")
    page.goto(f"{server.url}/#directory")
    page.wait_for_selector("main[data-ready=directory]")
    page.fill("input[name=q]", "Ningbo")
    page.wait_for_selector("#directory td:text('Ningbo Freight')")
    keep(page, "directory.png")
    assert errors == []
