"""The base classes of every form of the portal: typed text is cleaned on the way in.

Each ``StringField`` (and its kinds: e-mail, telephone, search…) and ``TextAreaField`` gets
``portal.core.text.clean_text`` as its first filter, one line or multi-line, so that no
control character reaches the database from a form (see that module for why).
Passwords are left as typed (they are compared, never shown), and hidden fields carry
values the portal wrote itself. ``tests/core/test_forms.py`` checks that every form of the
portal derives from one of these classes.
"""

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import (
    FieldList,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import StopValidation
from wtforms.widgets import core as widgets_core

from portal.core.text import clean_text


def _clean_multiline(value):
    if value is None:
        return ""
    return clean_text(value, multiline=True) if isinstance(value, str) else value


def _clean_line(value):
    if value is None:
        return ""
    return clean_text(value, multiline=False) if isinstance(value, str) else value


def _listed(value):
    return [] if value is None else value


def _sized_number(value):
    """A typed whole number no database column holds is refused (WTForms' ``NumberRange``
    converts it to a float and overflowed: a 500, found by the fuzz of issue #17). A
    ``ValueError`` of a filter is the field's error."""
    if isinstance(value, int) and abs(value) > ID_MAX:
        raise ValueError(_l("Ce nombre est trop grand."))
    return value


def _stop_after_refused_number(form, field):  # noqa: ARG001 - WTForms' validator signature
    """A number the filter refused (too large for any column) goes no further: WTForms'
    ``NumberRange`` would convert it to a float and overflow (a 500 in the fuzz of issue #17,
    ``lots.edit_lot``); the filter's message is already the field's error."""
    if isinstance(field.data, int) and abs(field.data) > ID_MAX:
        raise StopValidation()


class CleanTextMeta:
    """Form options adding the cleaning filter to every text field when it is bound.

    A field the request did not send (a body missing it, or no body at all: Flask-WTF then
    reads no form data) holds its default, None: text fields read it as empty text and
    multiple choices as no choice, so that no view or service meets a None where it reads
    text or a list (an empty POST made ``.strip()`` fail with a 500, found by
    tests/core/test_fuzz_forms.py).
    """

    def bind_field(self, form, unbound_field, options):
        field_class = unbound_field.field_class
        if issubclass(field_class, StringField) and not issubclass(
            field_class, PasswordField | HiddenField
        ):
            clean = _clean_multiline if issubclass(field_class, TextAreaField) else _clean_line
            options["filters"] = (clean, *unbound_field.kwargs.get("filters", ()))
        elif issubclass(field_class, SelectMultipleField):
            options["filters"] = (_listed, *unbound_field.kwargs.get("filters", ()))
        elif issubclass(field_class, IntegerField):
            options["filters"] = (_sized_number, *unbound_field.kwargs.get("filters", ()))
            if len(unbound_field.args) < 2:  # validators given by keyword (or none)
                validators = unbound_field.kwargs.get("validators") or ()
                options["validators"] = (_stop_after_refused_number, *validators)
        return super().bind_field(form, unbound_field, options)

    def wrap_formdata(self, form, formdata):
        """The request's form data, never a JSON body: the portal's forms are posted as
        forms, and Flask-WTF would read any JSON (a list, nested objects) as field values."""
        auto = formdata is not None and not hasattr(formdata, "getlist")
        if auto and has_request_context() and request.is_json and not request.form:
            return None
        return super().wrap_formdata(form, formdata)


class PortalForm(FlaskForm):
    """A form posted on its own (with its CSRF token)."""

    class Meta(CleanTextMeta):
        pass


class PortalSubForm(Form):
    """A form nested in another (``FormField``) or read from a query string: no CSRF."""

    class Meta(CleanTextMeta):
        pass


# The largest identifier the databases hold (BIGINT): a posted number beyond made the
# driver overflow when a view looked it up, a 500 (issue #17 fuzz).
ID_MAX = 2**63 - 1


def row_id(value) -> int:
    """A row's identifier posted in a choice; ValueError (the field's « invalid choice »)
    when it is not a number, or one no table can hold."""
    number = int(value)
    if abs(number) > ID_MAX:
        raise ValueError(value)
    return number


def optional_row_id(value) -> int | None:
    """``row_id``, None when nothing was chosen."""
    return None if value in (None, "") else row_id(value)


def without_entry(formdata: MultiDict, name: str, index: int) -> MultiDict:
    """``formdata`` without the entry ``index`` of the ``FieldList`` called ``name``: a form
    built from it has one row fewer (WTForms numbers the rows again from 0) and keeps
    everything else typed. « Retirer » buttons post the whole form and get it back so."""
    prefix = f"{name}-{index}-"
    return MultiDict(
        [(key, value) for key, value in formdata.items(multi=True) if not key.startswith(prefix)]
    )


def append_row(rows: FieldList, ceiling: int) -> int | None:
    """One more blank entry in ``rows`` (« Ajouter une ligne »), unless it holds ``ceiling``
    entries already: the new entry's index, or None."""
    if len(rows.entries) >= ceiling:
        return None
    rows.append_entry()
    return len(rows.entries) - 1


# ---- rendering attributes ------------------------------------------------------------------


def html_params(**kwargs) -> Markup:
    """WTForms' ``html_params``, the same output five times faster (issue #16).

    WTForms builds each ``name="value"`` pair with ``Markup.format``, whose escaping
    formatter is pure Python: a page of eight fields spent a fifth of its time there.
    Here the key and the value are escaped with ``escape`` and joined as text, a double
    quote left in a ``Markup`` value made ``&quot;`` as WTForms does.
    tests/core/test_forms.py compares both.
    """
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(widgets_core.clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")  # a Markup value is not escaped
            params.append(f'{key}="{text}"')
    return Markup(" ".join(params))  # noqa: S704 - every key and value escaped above


WTFORMS_HTML_PARAMS = widgets_core.html_params


def install_html_params() -> None:
    """Make WTForms' widgets and fields render attributes with ``html_params``.

    Most widgets look it up in ``wtforms.widgets.core`` (and fields in ``wtforms.widgets``)
    when rendering, but ``Input`` — every text, hidden, checkbox, radio and submit input —
    and ``Button`` bound it as a class attribute when WTForms was imported: replacing the
    module's name alone left them on the slow one, a sixth of « Mon compte »'s time."""
    widgets_core.html_params = html_params
    widgets.html_params = html_params
    for widget in (widgets_core.Input, widgets_core.Button):
        widget.html_params = staticmethod(html_params)
