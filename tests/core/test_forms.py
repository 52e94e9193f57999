"""Issue #11 M7: typed text is cleaned on the way in, by every form of the portal.

Control characters (``\\x01``, U+2028…) typed in a field made python-docx raise, so a
frozen convention's DOCX and PDF answered 500 forever, and a line break in a title jammed
the mail queue. ``portal/core/forms.py`` cleans every text field; here we check it does,
and that no form of the portal escapes it.
"""

import importlib
import pkgutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, PasswordField, StringField, TextAreaField

import portal
from portal.accounts.forms import ChangePasswordForm, ProfileForm
from portal.accounts.models import User
from portal.core.forms import (
    WTFORMS_HTML_PARAMS,
    PortalForm,
    PortalSubForm,
    html_params,
    without_entry,
)
from portal.core.text import clean_line, clean_text, comparison_key, document_text
from portal.extensions import db
from portal.lots.forms import LotForm
from tests.support import examples
from tests.support import login_as as login


def portal_forms() -> list[type]:
    """Every form class defined in the portal's modules (imported here)."""
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(module.name)
    found, todo = [], [Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("portal.") and sub.__module__ != "portal.core.forms":
                found.append(sub)
    return found


def test_every_form_of_the_portal_cleans_its_text():
    """Issue #11 M7: one shared filter for every StringField/TextAreaField of the app."""
    forms = portal_forms()
    assert len(forms) > 40
    escaping = [
        f"{form.__module__}.{form.__qualname__}"
        for form in forms
        if not issubclass(form, PortalForm | PortalSubForm)
    ]
    assert escaping == []


@pytest.mark.parametrize(
    ("typed", "multi_line", "one_line"),
    [
        ("Camille\x01 Martin", "Camille Martin", "Camille Martin"),
        ("ligne 1\r\nligne 2\rligne 3", "ligne 1\nligne 2\nligne 3", "ligne 1 ligne 2 ligne 3"),
        ("avant\u2028après\u2029fin\x85", "avant\naprès\nfin\n", "avant après fin "),
        ("col1\tcol2", "col1\tcol2", "col1 col2"),
        ("\x00\x08\x0b\x0c\x1b\x7f\x80\x9f\ufffe\ufffftexte", "texte", "texte"),
        ("e\u0301te\u0301", "été", "été"),  # NFC: one code point for « é »
        ("Préparateur·rice — « cariste » 😀", "Préparateur·rice — « cariste » 😀", None),
    ],
)
def test_clean_text(typed, multi_line, one_line):
    """Issue #11 M7: C0/C1, U+2028/2029 and non-characters go; TAB and LF stay only in
    multi-line text (CRLF → LF); NFC."""
    assert clean_text(typed, multiline=True) == multi_line
    assert clean_line(typed) == (multi_line if one_line is None else one_line)


def test_documents_drop_only_what_word_cannot_hold():
    """Issue #11 M7: stored data keeps its bytes (a frozen convention's copy), minus what
    python-docx refuses."""
    assert document_text("a\x01b\x0bc\ufffed\u2028e\r\nf\tg") == "abcd\ne\r\nf\tg"
    assert document_text("e\u0301") == "e\u0301"
    assert document_text(None) == "" and document_text(12) == "12"


def test_text_fields_are_cleaned_and_passwords_left_alone(app):
    """Issue #11 M7: single-line and multi-line fields, nested forms and query-string forms;
    not passwords (compared, never shown) nor hidden fields (written by the portal)."""

    class Row(PortalSubForm):
        label = StringField()

    class Sample(PortalForm):
        class Meta:
            csrf = False

        title = StringField(filters=[str.upper])
        notes = TextAreaField()
        secret = PasswordField()
        token = HiddenField()

    data = MultiDict(
        {
            "title": "titre\u2028suite\x01",
            "notes": "a\r\nb\x0bc",
            "secret": "mot\x01de passe\r\n",
            "token": "t\x01",
        }
    )
    with app.test_request_context():
        form = Sample(formdata=data)
        row = Row(formdata=MultiDict({"label": "é\x07tiquette\n"}))
    assert form.title.data == "TITRE SUITE"  # cleaned first, then the field's own filters
    assert form.notes.data == "a\nbc"
    assert form.secret.data == "mot\x01de passe\r\n"
    assert form.token.data == "t\x01"
    assert row.label.data == "étiquette "


def test_a_typed_control_character_never_reaches_the_database(app, client, world):
    """Issue #11 M7: what a person types keeps every visible character, in NFC."""
    login(client, world.emails["a_member"])
    response = client.post(
        "/compte",
        data={"first_name": "Ame\u0301lie\x01", "last_name": "Roux\u2028Martin", "phone": ""},
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.id == world.a_member))
        assert (user.first_name, user.last_name) == ("Amélie", "Roux Martin")


def test_the_password_forms_keep_what_was_typed(app):
    """Issue #11 M7: a password is compared as typed: cleaning it would lock people out."""
    with app.test_request_context():
        form = ChangePasswordForm(
            formdata=MultiDict({"current_password": "e\u0301\x01", "password": "x"}),
            meta={"csrf": False},
        )
        profile = ProfileForm(formdata=MultiDict({"first_name": "e\u0301"}), meta={"csrf": False})
    assert form.current_password.data == "e\u0301\x01"
    assert profile.first_name.data == "é"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Conduite de chariot", "conduite de  CHARIOT"),
        ("Hygiène des locaux", " hygiene DES\tlocaux "),
        ("Étiquetage", "etiquetage"),
    ],
)
def test_texts_saying_the_same_thing_share_one_comparison_key(a, b):
    assert comparison_key(a) == comparison_key(b)
    assert comparison_key("Conduite de chariot") != comparison_key("Conduite de chariots")


def test_a_row_removed_from_the_posted_data_leaves_the_others_and_the_rest():
    posted = MultiDict(
        [
            ("title", "Besoin"),
            ("rows-0-name", "A"),
            ("rows-1-name", "B"),
            ("rows-1-email", "b@example.fr"),
            ("rows-2-name", "C"),
            ("rows-10-name", "K"),
            ("tags", "x"),
            ("tags", "y"),
        ]
    )
    left = without_entry(posted, "rows", 1)
    assert [key for key in left] == ["title", "rows-0-name", "rows-2-name", "rows-10-name", "tags"]
    assert left.getlist("tags") == ["x", "y"]
    assert without_entry(posted, "rows", 7) == posted


def test_fuzz_a_huge_year_under_a_number_range_is_refused_not_a_500(app):
    """Issue #17 fuzz (CI run): ``lots.edit_lot`` posted a 300-digit year; the filter refused
    it, but WTForms' ``NumberRange`` still ran and overflowed converting it to a float."""
    with app.test_request_context(method="POST"):
        form = LotForm(formdata=MultiDict({"period_end": "9" * 300}), meta={"csrf": False})
        assert not form.validate()
        assert form.period_end.errors == ["Ce nombre est trop grand."]


# --- Rendering attributes (issue #16) -------------------------------------------------------

ATTRIBUTE_NAMES = st.sampled_from(
    ["id", "name", "class_", "for_", "type", "value", "data_hx_target", "aria_describedby",
     "required", "autocomplete", "<odd\"key>"]
)  # fmt: skip
ATTRIBUTE_VALUES = st.one_of(
    st.booleans(),
    st.integers(),
    st.none(),
    st.text(),
    st.text().map(Markup),
)


@settings(max_examples=examples(300))
@given(st.dictionaries(ATTRIBUTE_NAMES, ATTRIBUTE_VALUES))
def test_html_params_renders_what_wtforms_renders(attributes):
    ours = html_params(**attributes)
    assert isinstance(ours, Markup)
    assert ours == WTFORMS_HTML_PARAMS(**attributes)


def test_fields_render_through_the_portal_html_params(app):
    from wtforms import widgets
    from wtforms.widgets import core

    assert core.html_params is widgets.html_params is html_params
    # Inputs and buttons bound WTForms' own as a class attribute at import.
    assert core.Input.html_params is core.Button.html_params is html_params
    assert core.TextInput.html_params is core.SubmitInput.html_params is html_params
    with app.test_request_context():
        form = ProfileForm(formdata=None, obj=None)
        rendered = str(form.first_name(autocomplete="given-name", aria_describedby="a b"))
    assert 'aria-describedby="a b"' in rendered and 'autocomplete="given-name"' in rendered
