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
    token characters), the viewport and the elements' :hover/:focus states; axe-core's verdict
    depends on nothing else here (the same stylesheet everywhere). axe itself is injected once
    per document, not per check.

    The colour-contrast rule, three quarters of each run's time, runs only when the page shows
    text in a *colour context* not yet found clean in this process: what the rule's verdict
    on a text is made of, read from the computed styles — its colour, size, weight and
    shadow, the opacity it inherits, and the backgrounds behind it up to the first opaque one
    (colours and images). A state (a hovered link, a focused field) shows in those styles.
    The one assumption: what lies behind a text is its ancestors' background — nothing is
    positioned over text in app.css. So a page whose every text is in a context already
    checked clean has the same contrasts (the same words or others); a text in a new context
    runs the rule on the whole page. Every other rule runs on every new document.
    """
    # Let htmx finish: mid-request content is dimmed (.htmx-request) and not what users read.
    expect(page.locator(HTMX_BUSY)).to_have_count(0)
    document, contexts = page.evaluate(_DOCUMENT_AND_COLOUR_CONTEXTS)
    viewport = f"{page.viewport_size}"
    # The contexts carry the states (a hovered link) that the markup does not show.
    contexts = sorted(contexts)
    seen = f"{viewport}{_TOKEN.sub('', document)}{contexts}"
    key = hashlib.sha256(seen.encode()).hexdigest()
    if key in _CLEAN_DOCUMENTS:
        return
    unchecked = set(contexts) - _CONTEXTS_CHECKED
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.axe_script)
    options = "{resultTypes: ['violations']"
    if not unchecked:
        options += ", rules: {'color-contrast': {enabled: false}}"
    violations = page.evaluate(f"axe.run(document, {options}}})")["violations"]
    if violations:
        where = f"{page.url}" + (f" [{step}]" if step else "")
        report = "\n".join(_describe(v) for v in violations)
        pytest.fail(f"axe-core: {len(violations)} violation(s) on {where}\n{report}", pytrace=False)
    _CLEAN_DOCUMENTS.add(key)
    _CONTEXTS_CHECKED.update(unchecked)


# The document, and the colour context of every element that shows text (or is a form
# control): its computed colour, size, weight, shadow and inherited opacity, and the
# backgrounds of it and its ancestors up to the first opaque colour — once each.
_DOCUMENT_AND_COLOUR_CONTEXTS = """() => {
  const controls = new Set(["INPUT", "SELECT", "TEXTAREA", "BUTTON"]);
  const contexts = new Set();
  const backdrop = (element) => {
    const layers = [];
    let opacity = 1;
    for (let node = element; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      opacity *= Number(style.opacity);
      if (layers.length === 0 || layers[layers.length - 1] !== "opaque") {
        const colour = style.backgroundColor;
        const image = style.backgroundImage;
        if (image !== "none") { layers.push(`image ${image}`); }
        if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") { layers.push(colour); }
        if (image === "none" && /^rgb\\(/.test(colour)) { layers.push("opaque"); }
      }
    }
    return [opacity, layers];
  };
  const note = (element) => {
    const style = getComputedStyle(element);
    const [opacity, layers] = backdrop(element);
    contexts.add(JSON.stringify([style.color, style.fontSize, style.fontWeight,
                                 style.textShadow, opacity, layers]));
  };
  const walk = (element) => {
    let text = controls.has(element.tagName);
    for (const child of element.childNodes) {
      if (child.nodeType === Node.TEXT_NODE && child.nodeValue.trim()) {
        text = true;
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        walk(child);
      }
    }
    if (text) { note(element); }
  };
  walk(document.documentElement);
  return [document.documentElement.outerHTML, [...contexts]];
}"""
_CONTEXTS_CHECKED: set[str] = set()
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
