"""The dashboard page in a real headless Chromium (Debian's chromium, driven by Playwright with
executable_path; Playwright's own browser download is never used)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.contract_fixture import build_fixture, env_for, parse, run
from tests.server_fixture import Served, start

CHROMIUM = "/usr/bin/chromium"
pytest.importorskip("duckdb")
sync_api = pytest.importorskip("playwright.sync_api")
if not os.path.exists(CHROMIUM):
    if os.environ.get("BURN_TEST_CHROMIUM") == "required":
        raise RuntimeError(f"{CHROMIUM} is missing and BURN_TEST_CHROMIUM=required (.ci/run installs it)")
    pytest.skip("chromium is not installed (.ci/run installs it)", allow_module_level=True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(os.environ.get("BURN_TEST_ARTIFACTS", Path(__file__).parent / ".artifacts"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    base = tmp_path_factory.mktemp("dash")
    build_fixture(base)
    s = start({**env_for(base), "TZ": "UTC"}, "--refresh", "0", log=base / "serve.log")
    yield s, base / "burn"
    s.stop()


def _usd(micros: int | None) -> str:
    from burn.text.money import usd

    return usd(micros)


def test_the_page(served: tuple[Served, Path]) -> None:
    server, home = served
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100}, timezone_id="UTC")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/#")
        page.wait_for_function("Number(document.body.dataset.loaded) >= 1")
        page.select_option("#range", "all")
        page.wait_for_function("burnLast.meta.filters.since === null")
        api = server.json("/v1/analytics/page?range=all&timezone=UTC&bucket=day")["data"]["summary"]
        report: dict[str, Any] = parse(run(home, "report", ["usage", "--json", "--timezone", "UTC"]))[
            "totals"
        ]
        assert api["total_usd_micros"] == report["cost"]["total_usd_micros"]
        assert (
            page.text_content("#card-total")
            == _usd(api["total_usd_micros"])
            == _usd(report["cost"]["total_usd_micros"])
        )
        assert page.text_content("#card-turns") == f"{api['turns']:,}" == f"{report['turns']:,}"
        assert page.text_content("#card-sessions") == f"{api['sessions']:,}" == f"{report['sessions']:,}"
        assert page.text_content("#card-per-day") == _usd(api["per_active_day_usd_micros"])
        assert page.text_content("#card-today") == _usd(api["today_usd_micros"])
        # The chart was given the API's series.
        given = page.evaluate("burnCharts['chart-time'].data.datasets.map(d => [d.label, d.data])")
        assert given == [
            [s["model"], s["usd_micros"]]
            for s in server.json("/v1/analytics/spend-over-time?range=all&timezone=UTC")["data"]["series"]
        ]
        timing = server.json("/v1/analytics/timing?range=all&timezone=UTC")["data"]
        assert timing["available"]  # the fixture's Claude turns answer prompts: they carry durations
        drawn = page.evaluate("burnCharts['chart-timing'].data.datasets[0].data")
        assert drawn == [b["count"] for b in timing["duration_ms"]["histogram"]]
        assert f"p50 {timing['duration_ms']['p50']} ms" in page.inner_text("#timing-stats")
        assert not page.is_visible("#timing-empty")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        # A project filter: the charts and the cards change to that project's figures.
        options = page.eval_on_selector_all("#project option", "os => os.map(o => o.value)")
        key = options[1]
        page.select_option("#project", key)
        page.wait_for_function("burnLast.meta.filters.projects.length === 1")
        one = parse(run(home, "report", ["usage", "--json", "--timezone", "UTC", "--project", key]))["totals"]
        assert page.text_content("#card-total") == _usd(one["cost"]["total_usd_micros"])
        assert page.evaluate("burnLast.meta.filters.projects") == [key]
        stacked = page.evaluate(
            "burnCharts['chart-time'].data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0)"
        )
        assert stacked == one["cost"]["total_usd_micros"]

        # A range with no turns (the fixture is from March 2026): empty charts, "-" spend.
        page.select_option("#project", "")
        page.select_option("#range", "7d")
        page.wait_for_function(
            "burnLast.meta.filters.since !== null && burnLast.meta.filters.projects.length === 0"
        )
        assert page.evaluate("burnCharts['chart-time'].data.labels.length") == 0
        assert page.text_content("#card-total") == "-"
        # Phone width, dark scheme: readable (screenshot for a look), no errors.
        page.emulate_media(color_scheme="dark")
        page.set_viewport_size({"width": 390, "height": 844})
        page.select_option("#range", "all")
        page.wait_for_function("burnLast.meta.filters.since === null")
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone-dark.png"), full_page=True)
        browser.close()
    assert errors == []
