"""The only module that reads or writes HX-* headers.

Views ask here whether a request came from htmx and which element it targets,
and use ``render`` to answer the full page or its fragment from one URL.
"""

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """True when the request was sent by htmx (and is not a history restore)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


# Requests htmx sends by itself, not on a person's action: the co-design poll (every 3 s)
# and the beacon when its page closes, an export's progress (every second), the « À
# faire » count of the header (on each page load), and the refresh of the co-design draft
# and the convention's state after a poll saw a change. They do not count as activity for
# the idle timeout (portal/accounts/user_sessions.py). Told by their endpoint, and only
# when sent by htmx: the same URL opened as a page is an action. A client could mark its
# own action as background this way: it would only make its own session end sooner.
# tests/accounts/test_user_sessions.py checks that every self-triggered ``hx-trigger`` of
# the templates (``every``, ``load``, ``from:body``) calls one of them.
BACKGROUND_ENDPOINTS = frozenset(
    {
        "design.poll",
        "design.leave",
        "design.show_design",
        "conventions.show_convention",
        # The « PDF en préparation » page asks these every 2 s (htmx) until the file is ready;
        # opening the PDF itself is a plain navigation, which counts as activity.
        "conventions.download_pdf",
        "reporting.download_bilan_pdf",
        "reporting.show_export",
        "todo.count_duties",
    }
)


def is_background() -> bool:
    """The request was sent by htmx by itself (polling, refresh), not by the person."""
    return is_htmx() and request.endpoint in BACKGROUND_ENDPOINTS


def target() -> str | None:
    """The id of the element htmx will swap, if any."""
    return request.headers.get("HX-Target")


def render(page: str, fragment: str, status: int = 200, /, **context) -> Response:
    """Render ``fragment`` for htmx requests and ``page`` otherwise, one URL for both.

    The template names and the HTTP ``status`` are positional-only, so that every keyword
    is the templates' context: it may hold a ``page`` (of a list) or a ``status`` too.
    """
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def retarget(response: Response, selector: str, swap: str = "innerHTML") -> Response:
    """Make htmx swap the response into ``selector`` instead of the request's target."""
    response.headers["HX-Retarget"] = selector
    response.headers["HX-Reswap"] = swap
    return response


def redirect(response: Response, url: str) -> Response:
    """Ask htmx to follow ``url`` as a full navigation."""
    response.headers["HX-Redirect"] = url
    return response


def trigger(response: Response, event: str) -> Response:
    """Fire a client-side event after the swap (for widgets that listen for it)."""
    response.headers["HX-Trigger"] = event
    return response
