"""One way to act in a view: call a service, commit once, or roll back and say why.

Every route that changes something follows the same phases (Indico's request handling,
CONVENTIONS.md "One feature, split across files"):

1. load the objects, or 404;
2. authorise, or 403;
3. validate the form (a failure re-renders it, 422);
4. call one business verb — a service, which flushes and never commits;
5. commit once for the whole request; or, when the service refused with a ``RuleError``,
   roll back everything the request wrote, so that a refusal leaves no half-done change
   (nor the audit event of a change that did not happen);
6. answer: on success a fragment with a notice for htmx, or a flash and a 303 redirect
   (Post/Redirect/Get); on a refusal the French message where the user looks — a flash,
   the form with the error under the field the service named, a 409/422 fragment.

Phases 1 to 3 differ from one route to the next and stay in the view. ``act`` runs 4 and
5 and hands over to the view's two answers for 6, so a view reads as what is particular
to it: load → authorise → form → ``act(service call, success=…, failure=…)``. The answers
most routes give are built below: ``done`` (a widget's success), ``flash_redirect`` and
``flash_refusal`` (a page's), ``form_page``, ``form_refusal`` and ``field_error`` (a
form's); ``act_and_redirect`` is the whole of a button's route. A widget with an answer
of its own passes its own callable.

One commit per request: a view calls ``act`` once and services never commit, so a
change, its audit event and its notifications are kept or dropped together.

Why callables rather than a ``with`` block or a decorator: the answers differ per route
and need the service's result or its refusal, and a ``with`` block cannot return the
error answer for the view; passing the call as a lambda keeps everything that may raise
a ``RuleError`` (building the data included) inside the one ``try``.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import flash, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response
from wtforms import Form

from portal import htmx
from portal.core.errors import RuleError
from portal.extensions import db

T = TypeVar("T")
R = TypeVar("R", bound=ResponseReturnValue)


def act(
    call: Callable[[], T],
    *,
    success: Callable[[T], R],
    failure: Callable[[RuleError], R],
    keep: tuple[type[RuleError], ...] = (),
    keep_loaded: bool = False,
) -> R:
    """Run ``call`` (one service call), commit, and answer ``success(its result)``.

    A ``RuleError`` rolls the request back and answers ``failure(the error)``; its
    ``message`` is French, its ``field`` (if any) names the form field it is about. The
    refusals of a type in ``keep`` are committed instead: the service wrote what must
    outlive the refusal (a failed password counted by the throttle, the Région told of a
    need it refused).

    ``call`` may return plain values read from what the service made (an id, a name):
    read before the commit expires the objects, they cost no query to reload.

    ``keep_loaded``: a success commits without expiring (``commit_keeping_loaded``), for a
    service that locks what it changes (``core/locking.py``): what it read under the lock
    is what it committed, and the answer shows it without reading it again.
    """
    try:
        result = call()
    except RuleError as refusal:
        if isinstance(refusal, keep):
            db.session.commit()
        else:
            db.session.rollback()
        return failure(refusal)
    if keep_loaded:
        commit_keeping_loaded()
    else:
        db.session.commit()
    return success(result)


def commit_keeping_loaded() -> None:
    """Commit without expiring what the request loaded: for a request whose objects are as
    fresh after its commit as before (read under its own lock, or not written at all);
    what it had not read yet is read in a new transaction. The session is this request's
    and is dropped at its end."""
    session = db.session()
    session.expire_on_commit = False
    session.commit()


def act_and_redirect(call: Callable[[], object], url: str, notice: str) -> Response:
    """A button on a page: ``act``, then back to ``url`` with ``notice`` or the refusal
    flashed."""
    return act(
        call, success=lambda _result: flash_redirect(notice, url), failure=flash_refusal(url)
    )


def flash_redirect(message: str, url: str, category: str = "success") -> Response:
    """Post/Redirect/Get: go to ``url`` (303), where ``message`` is shown once."""
    flash(message, category)
    return redirect(url, 303)


def flash_refusal(url: str) -> Callable[[RuleError], Response]:
    """The failure answer of a button on a page: back to ``url``, the refusal flashed."""
    return lambda refusal: flash_redirect(refusal.message, url, "error")


def done(
    notice: str,
    url: str,
    fragment: Callable[[], ResponseReturnValue],
    *,
    announce: bool = False,
) -> ResponseReturnValue:
    """The answer to a change made from a widget: htmx gets the widget again
    (``fragment()``, which shows the notice itself); a plain form is redirected to ``url``
    with the notice flashed.

    ``announce``: the widget does not show the notice; it is sent out of band into the
    page's live region (``#htmx-notices`` in ``base.html``, ``aria-live="polite"``, like
    ``#htmx-errors``; no ``role="status"`` on an always-present, mostly empty element), so
    that every change is confirmed in the page and announced to screen readers."""
    if not htmx.is_htmx():
        return flash_redirect(notice, url)
    if not announce:
        return fragment()
    response = make_response(fragment())
    notice_html = render_template("core/_notice_oob.html", notice=notice)
    response.set_data(response.get_data(as_text=True) + notice_html)
    return response


def form_page(template: str, **context) -> tuple[str, int]:
    """A form's page: 200 when asked for, 422 once posted (it comes back only refused)."""
    return render_template(template, **context), 422 if request.method == "POST" else 200


def field_error(form: Form, refusal: RuleError, default: str | None = None) -> str | None:
    """Show ``refusal`` under the form field it names, or else under ``default``.

    Returns None when a field took the message, or the message itself when none did, for
    the page to show above the form.
    """
    name = refusal.field if refusal.field in form else default
    if name is None:
        return refusal.message
    form[name].errors = [*form[name].errors, refusal.message]
    return None


def form_refusal(
    form: Form, page: Callable[[str | None], R], default: str | None = None
) -> Callable[[RuleError], R]:
    """The failure answer of a form: the refusal under its field (``field_error``), then the
    form again, ``page(the message no field took, or None)``."""
    return lambda refusal: page(field_error(form, refusal, default))
