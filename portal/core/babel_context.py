"""flask-babel's per-request state found with one lookup of ``flask.g`` instead of three
(issue #16).

Every flask-babel call — ``gettext`` and each lazy string (enum titles, form labels),
``get_locale``, ``format_datetime`` — first finds its state on ``g`` through
``_get_current_context``, which goes through the ``g`` proxy three times (``not g``,
``hasattr``, the attribute): some 400 proxy lookups on the operation page, a twentieth of
its time under cProfile. ``install`` replaces that function with one giving the same
answer — None outside an application context, else ``g._flask_babel``, made on first use —
from one lookup. flask-babel's own functions call it by its module name, so they all use
it; tests/core/test_babel_context.py checks it keeps flask-babel's contract.
"""

from types import SimpleNamespace

import flask_babel
from flask import g

_ORIGINAL = getattr(flask_babel, "_get_current_context", None)


def current_context() -> SimpleNamespace | None:
    """flask-babel's state of this application context (None outside one)."""
    try:
        state = g._get_current_object()
    except RuntimeError:  # no application context: flask-babel's ``not g``
        return None
    try:
        return state._flask_babel
    except AttributeError:
        state._flask_babel = SimpleNamespace()
        return state._flask_babel


def install() -> None:
    """Make flask-babel use ``current_context`` (only where it has the function we
    replace: another version keeps its own)."""
    if _ORIGINAL is not None:
        flask_babel._get_current_context = current_context
