"""The pages in a real browser: Selenium drives Debian's headless chromium through sign-in
(a local account, then OIDC through a loopback IdP), search and one page of each kind, and
keeps a screenshot of each under test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shadowmap.agent.models import Finding, Report
from tests.conftest import Run
from tests.server.idp_helpers import ENTRA_FILES, GOOGLE_FILES, OKTA_FILES, asset
from tests.server.oidc_provider import running_provider
from tests.server.pages_helpers import PASSWORD, new_account

if TYPE_CHECKING:
    from tests.server.conftest import Collector, CollectorProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Kept for people to look at (gitignored); each run replaces the last run's pictures.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# The flags the brief asks for: no sandbox (root in CI), nothing that reaches the network.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--window-size=1400,1000",
)

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "Debian's chromium and chromium-driver are missing (scripts/test.sh installs them)"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def stocked_process(
    start_collector: Callable[..., CollectorProcess],
    sqlite_url: str,
    shadowmap: Callable[..., Run],
    make_report: Callable[..., Report],
    make_finding: Callable[..., Finding],
    make_secret_finding: Callable[..., Finding],
) -> Collector:
    collector = start_collector("--db", sqlite_url).collector
    for provider, names in (("google", GOOGLE_FILES), ("entra", ENTRA_FILES), ("okta", OKTA_FILES)):
        files = [f"--file={asset(n)}" for n in names]
        assert (
            shadowmap(
                "collector", "import-grants", "--provider", provider, "--db", sqlite_url, *files
            ).code
            == 0
        )
    device = collector.enroll_ok(
        "m-bob", hostname="bob-laptop", os_user="bob", email="bob@example.com"
    )
    report = make_report(
        "m-bob",
        [make_finding("outlook-calendar"), make_secret_finding(".env")],
        hostname="bob-laptop",
        users=("bob",),
    )
    assert collector.post_report(device["device_token"], report).status_code == 201
    new_account(collector, "sec-analyst", "viewer")
    return collector


def shoot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(height, 700), 4000))
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path


def test_a_security_analyst_signs_in_searches_and_opens_each_kind_of_page(
    browser: Any, stocked_process: Collector
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = stocked_process.base_url
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    browser.get(base + "/")
    assert browser.current_url.endswith("/login")
    shoot(browser, "01-login")
    browser.find_element(By.ID, "username").send_keys("sec-analyst")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()

    assert "sec-analyst · viewer" in browser.find_element(By.CLASS_NAME, "who").text
    assert "Shadow AI vendors" in browser.page_source
    shoot(browser, "02-overview")

    search = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    search.send_keys("otter\n")
    WebDriverWait(browser, 10).until(lambda d: "/search?q=otter" in d.current_url)
    assert browser.find_element(By.LINK_TEXT, "Otter.ai")
    shoot(browser, "03-search")

    pages = {}
    for name, lister, link_css in (
        ("vendor", "/vendors", "a[href='/vendors/openai']"),
        ("person", "/people", "a[href^='/people/']"),
        ("device", "/devices", "a[href^='/devices/']"),
    ):
        browser.get(base + lister)
        shoot(browser, f"04-{name}s")
        browser.find_element(By.CSS_SELECTOR, f"main {link_css}").click()
        pages[name] = browser.find_element(By.TAG_NAME, "h1").text
        shoot(browser, f"05-{name}")

    browser.get(base + "/findings?kind=secret")
    shoot(browser, "06-findings")
    findings = browser.page_source
    browser.get(base + "/grants")
    shoot(browser, "07-grants")
    browser.get(base + "/chart")
    chart_width = browser.find_element(By.CSS_SELECTOR, "svg.chart").size["width"]
    shoot(browser, "08-chart")
    browser.get(base + "/conclusions")
    shoot(browser, "09-conclusions")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]

    assert pages["vendor"] == "OpenAI"
    assert "@example.com" in pages["person"]
    assert pages["device"] == "bob-laptop"
    assert "OpenAI key in .env" in findings and "MCP server outlook-calendar" not in findings
    assert chart_width > 600
    assert not errors, errors  # no CSP violation, no missing stylesheet
    topbar = browser.find_element(By.CLASS_NAME, "topbar").value_of_css_property("background-color")
    assert topbar == "rgba(21, 26, 38, 1)"  # the stylesheet applied
    assert len(list(ARTIFACTS.glob("*.png"))) == 13


def test_a_person_signs_in_with_the_organisations_idp(
    browser: Any, start_collector: Callable[..., CollectorProcess], sqlite_url: str, tmp_path: Path
) -> None:
    """The whole OIDC flow in chromium, the IdP on another site (localhost, the collector on
    127.0.0.1), so SameSite rules apply as they would with a real IdP."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with running_provider("localhost") as provider:
        secret_file = tmp_path / "oidc-client-secret"
        secret_file.write_text(provider.secret, encoding="utf-8")
        env = {
            "SHADOWMAP_OIDC_ISSUER": provider.issuer,
            "SHADOWMAP_OIDC_CLIENT_ID": provider.client_id,
            "SHADOWMAP_OIDC_NAME": "Loopback IdP",
            "SHADOWMAP_OIDC_ADMIN_GROUPS": "shadowmap-admins",
        }
        provider.claims = {"groups": ["shadowmap-admins"]}
        provider.interactive = True
        options = ("--db", sqlite_url, "--oidc-client-secret-file", str(secret_file))
        base = start_collector(*options, env=env).collector.base_url

        browser.get(base + "/login")
        shoot(browser, "10-sso-login")
        browser.find_element(By.LINK_TEXT, "Sign in with Loopback IdP").click()
        browser.find_element(By.ID, "continue").click()  # at the IdP, on its site
        who = WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CLASS_NAME, "who"))
        signed_in_as, overview_url = who[0].text, browser.current_url
        shoot(browser, "11-sso-overview")
        browser.get(base + "/admin")
        admin_heading = browser.find_element(By.TAG_NAME, "h1").text
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]

    assert signed_in_as == "alice@example.com · admin"
    assert overview_url == base + "/"
    assert browser.current_url == base + "/admin" and admin_heading == "Accounts"
    assert provider.token_answers == [200]
    assert not errors, errors  # no CSP violation
