"""Helpers of the convention HTTP tests: an operation at the convention step (committed, its
ids), URLs, designation data, a clause edited by the porteur, and a version's signatures."""

from types import SimpleNamespace

from sqlalchemy import select

from portal.conventions import services
from portal.conventions.models import ConventionVersion, DesignatedSigner, Signature
from portal.design import services as design_services
from portal.design.models import SectionKey
from portal.design.queries import load_design
from portal.extensions import db
from portal.operations.models import Operation
from tests.conventions.factories import make_convention_ready
from tests.conventions.factories import sign_as as factory_sign
from tests.factories import make_user
from tests.operations.factories import OF_A
from tests.support import PASSWORD, committed, org_named, user_with

EMPLOYER_MEMBER = "e.member@example.fr"  # Entreprise E, not an admin


def build(app, **options) -> SimpleNamespace:
    """An operation at the convention step (see ``make_convention_ready``), committed."""
    with committed(app):
        ready = make_convention_ready(**options)
        market = ready.market
        make_user(market.employer, email=EMPLOYER_MEMBER, first_name="Eliott", last_name="Membre")
        return SimpleNamespace(
            id=ready.operation.id,
            convention=ready.convention.id,
            of_a=market.of_a.id,
            of_b=market.of_b.id,
            employer=market.employer.id,
            partner=market.partner.id,
            employer_user=market.employer_user.id,
            partner_user=market.partner_user.id,
        )


def url(op, path: str = "") -> str:
    """The convention page of ``op``, or ``path`` under it."""
    return f"/operations/{op.id}/convention{path}"


def designate_data(org_id: int, user_id, capacity: str) -> dict:
    """The designation form's fields for ``org_id``."""
    return {f"signer-{org_id}-user_id": user_id, f"signer-{org_id}-capacity": capacity}


def designation(app, op, org_id: int) -> DesignatedSigner | None:
    with app.app_context():
        row = db.session.scalar(
            select(DesignatedSigner).where(
                DesignatedSigner.convention_id == op.convention,
                DesignatedSigner.organisation_id == org_id,
            )
        )
        if row is not None:
            db.session.expunge(row)
        return row


def edit_clause(app, op, text_value: str, key=SectionKey.CONV_OBJECT) -> None:
    """The porteur changes a clause (the services the design routes call)."""
    with committed(app):
        section = load_design(op.id).section(key)
        design_services.save_section(
            section,
            {"text": text_value},
            base_version=section.version,
            by=user_with(OF_A),
            org=org_named("Organisme A"),
            steering=True,
        )


def operation_of(app, op) -> Operation:
    """The operation of ``op``, detached."""
    with app.app_context():
        operation = db.session.get(Operation, op.id)
        db.session.expunge(operation)
        return operation


def version_of(app, op, number: int = 1) -> ConventionVersion:
    """Version ``number`` of the convention, detached."""
    with app.app_context():
        version = db.session.scalar(
            select(ConventionVersion).where(
                ConventionVersion.convention_id == op.convention,
                ConventionVersion.number == number,
            )
        )
        db.session.expunge(version)
        return version


def consent(app, op, org_id: int, number: int = 1) -> str:
    """The consent text shown to the signer of ``org_id``."""
    with app.test_request_context():
        version = db.session.scalar(
            select(ConventionVersion).where(
                ConventionVersion.convention_id == op.convention,
                ConventionVersion.number == number,
            )
        )
        designation = services.signer_for(version.convention, org_id)
        organisation = designation.organisation
        return services.consent_text(version, organisation, designation.capacity)


def sign(client, app, op, org_id, *, number=1, password=PASSWORD, checked=True, code="", **kwargs):
    """Post the signing form of version ``number`` for ``org_id`` (consent as shown; the
    ``code`` of a second factor, if any)."""
    data = {"sign-consent_text": consent(app, op, org_id, number), "sign-password": password}
    if code:
        data["sign-code"] = code
    if checked:
        data["sign-consent"] = "y"
    return client.post(url(op, f"/versions/{number}/signature"), data=data, **kwargs)


def signatures(app, op, number: int = 1) -> list[Signature]:
    """The signatures of version ``number``, detached, in order."""
    with app.app_context():
        rows = db.session.scalars(
            select(Signature)
            .join(ConventionVersion)
            .where(
                ConventionVersion.convention_id == op.convention,
                ConventionVersion.number == number,
            )
            .order_by(Signature.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def sign_elsewhere(app, op, email: str, org_id: int, number: int = 1) -> None:
    """``email`` signs for ``org_id`` through the services (in their own browser)."""
    with committed(app):
        version = db.session.scalar(
            select(ConventionVersion).where(
                ConventionVersion.convention_id == op.convention,
                ConventionVersion.number == number,
            )
        )
        factory_sign(
            version, user_with(email), services.signer_for(version.convention, org_id).organisation
        )
