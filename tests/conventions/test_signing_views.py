"""A version of the convention over HTTP: its frozen text and hash, the evidence of its
opening, signing (consent + password, evidence, refusals), reminders, and refusals
(outsiders 404, CSRF 400). The Région's decision and the journeys:
test_decision_views.py."""

import pyotp
import pytest

from portal.accounts.models import LoginFailure
from portal.audit.models import AuditEvent
from portal.conventions import services
from portal.conventions.models import (
    Convention,
    SignatureReminder,
    VersionReading,
)
from portal.extensions import db
from tests.conventions.helpers_views import (
    EMPLOYER_MEMBER,
    build,
    consent,
    edit_clause,
    operation_of,
    sign,
    signatures,
    url,
    version_of,
)
from tests.factories import enrol_totp
from tests.operations.factories import EMPLOYER, OF_A, OF_B, PARTNER, REFERENT
from tests.support import (
    HTMX,
    PASSWORD,
    age_authentication,
    committed,
    count,
    login_as,
    snapshot,
    text,
    user_with,
)


@pytest.fixture
def op(app):
    """Version 1 submitted: Organisme A, Entreprise E and Partenaire P are to sign it."""
    ids = build(app)
    with committed(app):
        convention = db.session.get(Convention, ids.convention)
        services.submit(convention, by=user_with(OF_A), org=convention.operation.provider)
    return ids


def audit(app, action: str) -> int:
    return count(app, AuditEvent, AuditEvent.action == action)


# --- The version page -------------------------------------------------------------------


def test_the_version_page_shows_the_frozen_text_and_its_hash(app, client, op):
    version = version_of(app, op)
    login_as(client, PARTNER)
    response = client.get(url(op, "/versions/1"))
    assert response.status_code == 200
    page = text(response)
    assert f"Convention {services.reference_for(operation_of(app, op))} — version 1" in page
    assert f'data-fingerprint="{version.sha256}"' in page
    assert "Article 1 — Objet de la convention" in page
    assert "Engagements des employeurs" in page and "Comité de pilotage" in page
    assert "Annexe : la formation co-conçue" in page and "Techniques de nettoyage" in page
    assert "Agent·e d'entretien" in page and "Partenaire P" in page
    assert "Ce qui a changé depuis" not in page  # no earlier version
    assert ">À signer</span>" in page


def test_opening_a_version_is_recorded_once(app, client, op):
    login_as(client, EMPLOYER)
    client.get(url(op, "/versions/1"))
    client.get(url(op, "/versions/1"))
    assert count(app, VersionReading) == 1
    assert audit(app, "convention.opened") == 1


def test_an_unknown_version_is_404(client, op):
    login_as(client, EMPLOYER)
    assert client.get(url(op, "/versions/7")).status_code == 404


def test_the_signer_sees_the_exact_consent_and_a_password_field(app, client, op):
    login_as(client, EMPLOYER)
    page = text(client.get(url(op, "/versions/1")))
    expected = consent(app, op, op.employer)
    assert f'<label for="sign-consent">{expected}</label>' in page
    assert '<input id="sign-consent" name="sign-consent" required type="checkbox"' in page
    assert 'type="password"' in page and 'autocomplete="current-password"' in page
    assert "Signer la version 1 pour Entreprise E" in page


def test_who_is_not_a_designated_signer_sees_no_signing_form(client, op):
    login_as(client, EMPLOYER_MEMBER)
    page = text(client.get(url(op, "/versions/1")))
    assert "sign-password" not in page
    client.post("/deconnexion")
    login_as(client, REFERENT)
    page = text(client.get(url(op, "/versions/1")))
    assert "sign-password" not in page
    assert "Valider la version 1" not in page  # not signed by everyone yet
    assert "Rejeter la version 1" in page


# --- Signing --------------------------------------------------------------------------------


def test_signing_keeps_the_evidence(app, client, op):
    client.environ_base["HTTP_USER_AGENT"] = "Navigateur/1.0"  # the whole session's browser
    login_as(client, EMPLOYER)
    response = sign(client, app, op, op.employer)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(op, "/versions/1"))
    (signature,) = signatures(app, op)
    version = version_of(app, op)
    assert signature.organisation_id == op.employer and signature.user_id == op.employer_user
    assert signature.capacity == "gérant"
    assert signature.consent_text == consent(app, op, op.employer)
    assert signature.version_sha256 == version.sha256
    assert (signature.ip, signature.user_agent) == ("127.0.0.1", "Navigateur/1.0")
    assert signature.auth_method == "password"
    assert version.status.value == "partially_signed"
    page = text(client.get(url(op, "/versions/1")))
    assert "Votre signature pour Entreprise E est enregistrée sur la version 1." in page
    assert "Signée le" in page and "sign-password" not in page


def test_signing_by_htmx_answers_the_signatures_block(app, client, op):
    login_as(client, PARTNER)
    response = sign(client, app, op, op.partner, headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith('<section id="version-signatures"')
    assert "Votre signature pour Partenaire P est enregistrée" in body
    assert len(signatures(app, op)) == 1


def test_the_signing_password_is_the_reauthentication_however_old_the_login(app, client, op):
    login_as(client, PARTNER)
    age_authentication(client, 60)
    assert sign(client, app, op, op.partner).status_code == 303  # asked once, in the form
    assert len(signatures(app, op)) == 1


def test_a_signer_with_a_second_factor_gives_its_code_in_the_same_form(app, client, op):
    with committed(app):
        signer = user_with(PARTNER)
        enrol_totp(signer)
        secret = signer.totp_secret
    login_as(client, PARTNER)
    assert "sign-code" in text(client.get(url(op, "/versions/1")))
    refused = sign(client, app, op, op.partner, headers=HTMX)
    assert refused.status_code == 422 and "Saisissez le code" in text(refused)
    assert signatures(app, op) == []
    response = sign(client, app, op, op.partner, code=pyotp.TOTP(secret).now())
    assert response.status_code == 303
    (signature,) = signatures(app, op)
    assert signature.auth_method == "password+totp"


def test_a_wrong_password_signs_nothing_and_counts_as_a_failed_login(app, client, op):
    login_as(client, EMPLOYER)
    failures = count(app, LoginFailure)
    response = sign(client, app, op, op.employer, password="pas le bon mot de passe", headers=HTMX)
    assert response.status_code == 422
    assert "Mot de passe incorrect : la signature n'est pas enregistrée." in text(response)
    assert signatures(app, op) == []
    assert audit(app, "convention.signed") == 0
    assert audit(app, "convention.reauthentication_failed") == 1
    assert count(app, LoginFailure) == failures + 3  # the account, the account from this IP, the IP
    assert version_of(app, op).status.value == "to_sign"


def test_too_many_failures_block_signing_even_with_the_right_password(app, client, op, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_PER_ACCOUNT_IP", 2)
    login_as(client, EMPLOYER)
    for _attempt in range(2):
        sign(client, app, op, op.employer, password="mauvais mot de passe")
    response = sign(client, app, op, op.employer)
    assert response.status_code == 422
    assert "Trop de tentatives infructueuses" in text(response)
    assert signatures(app, op) == []


def test_strangers_failing_elsewhere_never_stop_a_signature(app, client, other_client, op):
    """Issue #11 L12: the per-account lockout let anyone who knew the signer's address stop
    them from signing; now only the signer's own failures from their IP count."""
    login_as(client, EMPLOYER)  # the signer, logged in before the stranger comes
    for attempt in range(12):  # a stranger, from addresses of their own
        other_client.post(
            "/connexion",
            data={"email": EMPLOYER, "password": "une devinette"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{attempt}"},
        )
    assert count(app, LoginFailure, LoginFailure.key == f"account:{EMPLOYER}") >= 5
    login_page = other_client.post("/connexion", data={"email": EMPLOYER, "password": PASSWORD})
    assert "Trop de tentatives pour ce compte" in text(login_page)  # slowed down, only
    response = sign(client, app, op, op.employer, headers=HTMX)
    assert response.status_code == 200, text(response)
    assert [s.organisation_id for s in signatures(app, op)] == [op.employer]


def test_an_unticked_consent_signs_nothing(app, client, op):
    login_as(client, EMPLOYER)
    response = sign(client, app, op, op.employer, checked=False, headers=HTMX)
    assert response.status_code == 422
    body = text(response)
    assert "Cochez la case de consentement pour signer." in body
    assert '<p class="error-message" id="sign-consent-error">' in body
    assert signatures(app, op) == []


def test_a_consent_that_changed_meanwhile_is_shown_again(app, client, op):
    login_as(client, EMPLOYER)
    data = {"sign-consent": "y", "sign-password": PASSWORD, "sign-consent_text": "Autre texte"}
    response = client.post(url(op, "/versions/1/signature"), data=data, headers=HTMX)
    assert response.status_code == 409
    body = text(response)
    assert "Le texte du consentement a changé" in body
    assert consent(app, op, op.employer) in body
    assert signatures(app, op) == []


def test_signing_twice_is_a_friendly_message(app, client, op):
    login_as(client, EMPLOYER)
    sign(client, app, op, op.employer)
    response = sign(client, app, op, op.employer, headers=HTMX)
    assert response.status_code == 409
    body = text(response)
    assert body.lstrip().startswith('<section id="version-signatures"')
    assert "Entreprise E a déjà signé cette version." in body
    assert "Accès refusé" not in body
    assert len(signatures(app, op)) == 1


def test_a_replaced_version_can_no_longer_be_signed(app, client, op):
    login_as(client, EMPLOYER)
    version_1_consent = consent(app, op, op.employer)
    edit_clause(app, op, "Objet modifié avant la signature.")
    with committed(app):
        convention = db.session.get(Convention, op.convention)
        services.submit(convention, by=user_with(OF_A), org=convention.operation.provider)
    data = {"sign-consent": "y", "sign-password": PASSWORD, "sign-consent_text": version_1_consent}
    response = client.post(url(op, "/versions/1/signature"), data=data, headers=HTMX)
    assert response.status_code == 409
    body = text(response)
    assert "Cette version n'est pas ouverte à la signature (Annulée)." in body
    assert 'role="alert"' in body and "sign-password" not in body
    assert signatures(app, op) == []


@pytest.mark.parametrize("email", [EMPLOYER_MEMBER, REFERENT])
def test_who_is_not_the_designated_signer_may_not_sign(app, client, op, email):
    login_as(client, email)
    data = {"sign-consent": "y", "sign-password": PASSWORD, "sign-consent_text": "x"}
    response = client.post(url(op, "/versions/1/signature"), data=data)
    assert response.status_code == 403
    assert signatures(app, op) == []


def test_a_signer_cannot_sign_for_another_party(app, client, op):
    # The partner's signer acts for Partenaire P only: the consent of Entreprise E, its
    # capacity and organisation, are not theirs, and nothing is signed for Entreprise E.
    login_as(client, PARTNER)
    data = {
        "sign-consent": "y",
        "sign-password": PASSWORD,
        "sign-consent_text": consent(app, op, op.employer),
    }
    response = client.post(url(op, "/versions/1/signature"), data=data, headers=HTMX)
    assert response.status_code == 409
    assert [s.organisation_id for s in signatures(app, op)] == []


# --- Reminders -------------------------------------------------------------------------------


def test_anyone_in_the_operation_reminds_a_pending_signer_once_a_day(app, client, op):
    login_as(client, EMPLOYER)
    page = text(client.get(url(op, "/versions/1")))
    assert "Relancer" in page
    response = client.post(url(op, f"/versions/1/relance/{op.partner}"), headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert "Relance envoyée à Camille Martin." in body
    assert "relancé le" in body
    assert count(app, SignatureReminder) == 1
    again = client.post(url(op, f"/versions/1/relance/{op.partner}"), headers=HTMX)
    assert again.status_code == 409
    assert "alert--error" in text(again)
    assert count(app, SignatureReminder) == 1


def test_a_reminder_without_javascript_comes_back_to_the_version(app, client, op):
    login_as(client, OF_A)
    response = client.post(url(op, f"/versions/1/relance/{op.employer}"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(op, "/versions/1"))
    assert "Relance envoyée" in text(client.get(url(op, "/versions/1")))


@pytest.mark.parametrize(
    "path",
    [
        "/versions/1/signature",
        "/versions/1/relance/{partner}",
        "/versions/1/validation",
        "/versions/1/rejet",
    ],
)
def test_version_posts_without_csrf_token_are_refused(app, client, op, path):
    login_as(client, REFERENT)
    before = snapshot(app)
    response = client.post(
        url(op, path.format(partner=op.partner)), data={"reject-reason": "Non"}, csrf=False
    )
    assert response.status_code == 400
    assert snapshot(app) == before


def test_outsiders_cannot_open_a_version(app, client, op):
    login_as(client, OF_B)
    assert client.get(url(op, "/versions/1")).status_code == 404
    assert count(app, VersionReading) == 0
