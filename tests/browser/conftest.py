"""Browser fixtures: Debian's Chromium driven by Playwright, demo data, and an axe-core check.

The journeys run against ``live_server`` (tests/conftest.py). Every page they reach goes
through ``check_a11y``, which fails the test with the full list of axe-core violations.
"""

import os
import shutil
import sys

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from portal.demo import load_demo
from portal.extensions import db

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A local page answers in milliseconds; the margin is for a loaded CI machine, not for the app.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

_missing_browser_reason: list[str] = []


def _chromium_path() -> str | None:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    return path if os.path.exists(path) else None


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session; missing: fail under REQUIRE_BROWSER=1, else skip loudly."""
    path = _chromium_path()
    if path is None:
        reason = (
            "Chromium introuvable (ni `chromium` dans le PATH, ni /usr/bin/chromium) : "
            "les tests navigateur et les contrôles axe-core ne sont PAS exécutés. "
            "Installez le paquet Debian `chromium` (make browser)."
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 : " + reason, pytrace=False)
        if not _missing_browser_reason:
            _missing_browser_reason.append(reason)
            sys.stderr.write(f"\n{'!' * 78}\n!!! {reason}\n{'!' * 78}\n")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def pytest_terminal_summary(terminalreporter):
    """Repeat the missing-browser warning at the very end, where nobody can miss it."""
    if _missing_browser_reason:
        terminalreporter.write_sep("!", "TESTS NAVIGATEUR IGNORÉS", red=True, bold=True)
        terminalreporter.write_line(_missing_browser_reason[0], red=True)


@pytest.fixture
def browser_errors() -> list[str]:
    """What the browser refused under the CSP, and uncaught script errors, during a test."""
    return []


@pytest.fixture
def page(browser, live_server, browser_errors):
    """A fresh browser context (cookies, storage) per test, French, on the live server.

    No ``bypass_csp``: Playwright's ``evaluate`` goes through the DevTools protocol, which
    the page's Content-Security-Policy does not govern, so axe-core can be injected while
    every journey still runs under the portal's real, strict policy. Anything that policy
    blocks (an inline style or script slipped into a template) fails the test.
    """
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    browser_page = context.new_page()
    browser_page.on("console", lambda message: _keep_csp_refusal(browser_errors, message.text))
    browser_page.on("pageerror", lambda error: browser_errors.append(f"JS error: {error}"))
    yield browser_page
    context.close()
    if browser_errors:
        pytest.fail("browser errors:\n" + "\n".join(browser_errors), pytrace=False)


def _keep_csp_refusal(errors: list[str], text: str) -> None:
    if "Content Security Policy" in text:
        errors.append(f"CSP: {text}")


@pytest.fixture
def browsers(browser, live_server, browser_errors):
    """A browser context per person (its own cookies), under the portal's real CSP:
    ``open_for(who)`` returns a new page; journeys with several people use it."""
    contexts = []

    def open_for(who: str) -> Page:
        context = browser.new_context(base_url=live_server.url, locale="fr-FR")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        browser_page = context.new_page()
        browser_page.on("console", lambda message: _keep_csp_refusal(browser_errors, message.text))
        browser_page.on(
            "pageerror", lambda error: browser_errors.append(f"JS error ({who}): {error}")
        )
        return browser_page

    yield open_for
    for context in contexts:
        context.close()
    if browser_errors:
        pytest.fail("browser errors:\n" + "\n".join(browser_errors), pytrace=False)


@pytest.fixture
def demo(app, live_server):
    """The demo data, with invitation links in the outbox pointing at the live server."""
    with app.test_request_context(base_url=live_server.url):
        load_demo()
        db.session.commit()


# --- axe-core --------------------------------------------------------------------------

AXE = Axe()
HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling"


def _describe(violation: dict) -> str:
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']}",
        f"  {violation['helpUrl']}",
    ]
    for node in violation["nodes"]:
        lines.append(f"    * {' '.join(map(str, node['target']))}: {node['html'][:160]}")
        summary = (node.get("failureSummary") or "").replace("\n", " ")
        if summary:
            lines.append(f"      {summary}")
    return "\n".join(lines)


def check_a11y(page: Page, step: str = "") -> None:
    """Run axe-core on the page as it is now; fail listing every violation."""
    # Let htmx finish: mid-request content is dimmed (.htmx-request) and not what users read.
    expect(page.locator(HTMX_BUSY)).to_have_count(0)
    violations = AXE.run(page).response["violations"]
    if violations:
        where = f"{page.url}" + (f" [{step}]" if step else "")
        report = "\n".join(_describe(v) for v in violations)
        pytest.fail(f"axe-core: {len(violations)} violation(s) on {where}\n{report}", pytrace=False)


def visit(page: Page, path: str, step: str = "") -> None:
    """Open ``path`` on the live server, check it answered, then run axe on it."""
    response = page.goto(path)
    assert response is not None and response.ok, f"GET {path} -> {response and response.status}"
    check_a11y(page, step or path)
