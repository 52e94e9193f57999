"""Browser fixtures: Debian's Chromium driven by Playwright, demo data, and an axe-core check.

The journeys run against ``live_server`` (tests/conftest.py). Every page they reach goes
through ``check_a11y`` (tests/browser/support.py), which fails the test with the full list
of axe-core violations.
"""

import os
import shutil
import sys
import threading

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from portal.reporting import jobs
from tests.browser.support import TIMEOUT_MS, keep_csp_refusal
from tests.support import load_demo_copy

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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
def live_public_url(app, live_server, monkeypatch):
    """PUBLIC_URL is the live server's during a browser test: links in e-mails lead there.

    The server answers only during the test: after it (its browser contexts closed) the gate
    turns late requests away and waits for those in flight, before the cleanup empties the
    tables. Closing a page sends beacons (« je quitte la co-conception »); served while the
    tables were being emptied, one re-inserted a presence under a design being deleted
    (PostgreSQL refused the DELETE, CI failed), and since every demo copy reuses the same
    identifiers, one served later would write into the next test's data.
    """
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server.url)
    live_server.gate.open()
    yield live_server.url
    live_server.gate.close()


@pytest.fixture
def page(browser, live_server, live_public_url, browser_errors):
    """A fresh browser context (cookies, storage) per test, French, on the live server.

    No ``bypass_csp``: Playwright's ``evaluate`` goes through the DevTools protocol, which
    the page's Content-Security-Policy does not govern, so axe-core can be injected while
    every journey still runs under the portal's real, strict policy. Anything that policy
    blocks (an inline style or script slipped into a template) fails the test.
    """
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    browser_page = context.new_page()
    browser_page.on("console", lambda message: keep_csp_refusal(browser_errors, message.text))
    browser_page.on("pageerror", lambda error: browser_errors.append(f"JS error: {error}"))
    yield browser_page
    context.close()
    if browser_errors:
        pytest.fail("browser errors:\n" + "\n".join(browser_errors), pytrace=False)


@pytest.fixture
def browsers(browser, live_server, live_public_url, browser_errors):
    """A browser context per person (its own cookies), under the portal's real CSP:
    ``open_for(who)`` returns a new page; journeys with several people use it."""
    contexts = []

    def open_for(who: str) -> Page:
        context = browser.new_context(base_url=live_public_url, locale="fr-FR")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        browser_page = context.new_page()
        browser_page.on("console", lambda message: keep_csp_refusal(browser_errors, message.text))
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
def demo(app, live_public_url):
    """The demo data, with invitation links in the outbox pointing at the live server."""
    load_demo_copy(app, live_public_url)


@pytest.fixture
def export_worker(app):
    """The exports' worker (``flask jobs work``) running beside the live server, stopped
    after the test."""
    stop = threading.Event()

    def context():
        return app.test_request_context(base_url=app.config["PUBLIC_URL"])

    thread = threading.Thread(
        target=jobs.work, args=(context,), kwargs={"stop": stop, "idle": 0.2}, daemon=True
    )
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
