"""Helpers of the browser journeys: the axe-core check, visiting a page, logging in and out
through the real form, telling an htmx swap from a full page load, reading a page."""

import hashlib
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD
from tests.support import PASSWORD

# A local page answers in milliseconds; the margin is for a loaded CI machine, not for the app.
TIMEOUT_MS = 10_000


def keep_csp_refusal(errors: list[str], text: str) -> None:
    """Keep a console message if it is a Content-Security-Policy refusal."""
    if "Content Security Policy" in text:
        errors.append(f"CSP: {text}")


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
    """Run axe-core on the page as it is now; fail listing every violation.

    A document already found clean in this process is not checked again: the journeys log in
    some forty times, and a third of their checks met a page (the login form, a home page)
    identical to one checked before, down to the attribute. "Identical" compares the whole
    DOM with only the per-request tokens taken out (CSRF, nonces: any run of 40 or more
    token characters) and the viewport; axe-core's verdict depends on nothing else here (the
    same stylesheet everywhere). axe itself is injected once per document, not per check.

    The colour-contrast rule, half of each run's time, is run once per *structure*: the
    elements with the attributes the stylesheet selects on (class, type, hidden,
    aria-current…) and where text is, but not the text itself. Colours come from those alone
    (one stylesheet, no inline styles under the CSP), so a page that only shows other words
    in the same elements has the same contrasts. Every other rule runs on every new document.
    """
    # Let htmx finish: mid-request content is dimmed (.htmx-request) and not what users read.
    expect(page.locator(HTMX_BUSY)).to_have_count(0)
    document, structure = page.evaluate(_DOCUMENT_AND_STRUCTURE)
    viewport = f"{page.viewport_size}"
    key = hashlib.sha256(f"{viewport}{_TOKEN.sub('', document)}".encode()).hexdigest()
    if key in _CLEAN_DOCUMENTS:
        return
    shape = hashlib.sha256(f"{viewport}{structure}".encode()).hexdigest()
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.axe_script)
    options = "{resultTypes: ['violations']"
    if shape in _CONTRASTS_CHECKED:
        options += ", rules: {'color-contrast': {enabled: false}}"
    violations = page.evaluate(f"axe.run(document, {options}}})")["violations"]
    if violations:
        where = f"{page.url}" + (f" [{step}]" if step else "")
        report = "\n".join(_describe(v) for v in violations)
        pytest.fail(f"axe-core: {len(violations)} violation(s) on {where}\n{report}", pytrace=False)
    _CLEAN_DOCUMENTS.add(key)
    _CONTRASTS_CHECKED.add(shape)


# The document, and its structure as far as colours go: tags, the attributes app.css
# selects on, the stylesheets (links, style elements), and "#" where an element holds text.
_DOCUMENT_AND_STRUCTURE = """() => {
  const kept = ["class", "type", "hidden", "aria-current", "disabled", "open", "checked",
                "aria-invalid", "aria-disabled", "role"];
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.nodeValue.trim()) { out.push("#"); }
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) { return; }
    out.push("<", node.tagName);
    for (const name of kept) {
      if (node.hasAttribute(name)) { out.push(" ", name, "=", node.getAttribute(name)); }
    }
    if (node.tagName === "LINK") { out.push(" href=", node.getAttribute("href")); }
    out.push(">");
    if (node.tagName === "STYLE") { out.push(node.textContent); }
    node.childNodes.forEach(walk);
    out.push("</>");
  };
  walk(document.documentElement);
  return [document.documentElement.outerHTML, out.join("")];
}"""
_CONTRASTS_CHECKED: set[str] = set()
_CLEAN_DOCUMENTS: set[str] = set()
_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{40,}")


def visit(page: Page, path: str, step: str = "") -> None:
    """Open ``path`` on the live server, check it answered, then run axe on it."""
    response = page.goto(path)
    assert response is not None and response.ok, f"GET {path} -> {response and response.status}"
    check_a11y(page, step or path)


# --- Logging in, and htmx swaps --------------------------------------------------------

OF_EMAIL = "of@demo.defi.test"  # the demo's organisme, member of two organisations


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Fill and send the login form (axe runs on the form first)."""
    visit(page, "/connexion", "login form")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def log_out(page: Page) -> None:
    """Log out from the banner; the login page says so (axe runs on it)."""
    page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté·e")
    check_a11y(page, "logged out")


def mark_document(page: Page) -> None:
    """Tag the live document; the tag survives an htmx swap but not a full page load."""
    page.evaluate("window.__sameDocument = true")


def expect_same_document(page: Page) -> None:
    """The document tagged by ``mark_document`` is still there (no full page load)."""
    assert page.evaluate("window.__sameDocument === true"), "the page was fully reloaded"


# --- Reading a page, and one browser per person ------------------------------------------


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.locator("#flashes")


def card(page: Page, title: str, *, exact: bool = True):
    """The ``<section>`` whose heading is ``title``."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=title, exact=exact))


def logged_in(open_for, email: str, first_name: str, password: str = PASSWORD) -> Page:
    """A new browser (``open_for``: the ``browsers`` fixture) logged in as ``email``, on its
    home page (axe runs on it)."""
    page = open_for(email)
    log_in(page, email, password)
    expect(heading(page)).to_have_text(f"Bonjour {first_name}")
    check_a11y(page, f"home ({first_name})")
    return page
