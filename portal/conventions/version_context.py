"""What the page of one frozen version renders: its text, signatures and what the reader
may do; shared by the version, signing and document routes."""

from flask import abort
from flask_login import current_user

from portal.accounts.access import current_org
from portal.accounts.forms import EmptyForm
from portal.conventions import diffs, queries, services
from portal.conventions.evidence_page import validation_anchor
from portal.conventions.forms import RejectVersionForm, SignForm, ValidateVersionForm
from portal.conventions.models import Convention, ConventionVersion, VersionStatus
from portal.operations.access import is_region
from portal.operations.models import Operation

PAGE = "conventions/version.html"


SIGNATURES = "conventions/_signatures.html"


SIGNING = (VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED)


def version_or_404(convention: Convention, number: int) -> ConventionVersion:
    """The version ``number`` of the convention, or 404."""
    version = next((v for v in convention.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


def _annex(snapshot: dict) -> list[dict]:
    """The design sections as a reader sees them: a text, or items with their fields."""
    sections = []
    for section in snapshot.get("design", []):
        formatter = diffs.item_formatter(section["key"], snapshot)
        if formatter is None:
            sections.append({"title": section["title"], "text": section["content"].get("text")})
        else:
            items = section["content"].get("items", [])
            sections.append(
                {
                    "title": section["title"],
                    "entries": [(formatter.name(i), formatter.fields(i)) for i in items],
                }
            )
    return sections


def text_context(version: ConventionVersion) -> dict:
    """What the version says, read from its frozen snapshot only."""
    snapshot = services.snapshot_of(version)
    return {
        "snapshot": snapshot,
        "operation_facts": [
            (str(label), value)
            for name, label in diffs.OPERATION_LABELS.items()
            if (value := diffs.operation_record(snapshot["operation"]).get(name)) not in (None, "")
        ],
        "frozen_promises": [diffs.promise_record(p) for p in snapshot["promises"]],
        "annex": _annex(snapshot),
    }


def signing_context(
    operation: Operation, convention: Convention, version: ConventionVersion, **forms
) -> dict:
    """The signatures of the version, what the current user may do with it, and the forms.

    ``forms``: ``sign_form``, ``validate_form``, ``reject_form`` bound to a failed post.
    """
    snapshot = services.snapshot_of(version)
    org = current_org()
    parties = services.signing_parties(snapshot)
    party_ids = {p["organisation_id"] for p in parties}
    valid = {s.organisation_id: s for s in services.valid_signatures(version)}
    is_latest = services.latest_version(convention).id == version.id
    collecting = version.status in SIGNING and is_latest and operation.is_open
    reminded = queries.last_reminders(version) if collecting else {}
    rows = [
        {
            "party": party,
            "signature": valid.get(party["organisation_id"]),
            "designation": services.signer_for(convention, party["organisation_id"]),
            "reminded_at": reminded.get(party["organisation_id"]),
        }
        for party in parties
    ]
    designation = services.signer_for(convention, org.id) if org else None
    can_sign = (
        collecting
        and org.id in party_ids
        and org.id not in valid
        and designation is not None
        and designation.user_id == current_user.id
    )
    consent = services.consent_text(version, org, designation.capacity) if can_sign else ""
    sign_form = forms.get("sign_form") or SignForm(
        formdata=None, prefix="sign", data={"consent_text": consent}
    )
    if can_sign:
        # The label is the exact consent; the hidden copy tells if it changed meanwhile.
        sign_form.consent.label.text = consent
        sign_form.consent_text.data = consent
    elsewhere = [
        s
        for s in convention.signers
        if s.user_id == current_user.id
        and s.organisation_id in party_ids - {org.id}
        and s.organisation_id not in valid
    ]
    region = is_region()
    return {
        "version": version,
        "anchor": validation_anchor(version),
        "rows": rows,
        "voided_signatures": [s for s in version.signatures if not s.is_valid],
        "collecting": collecting,
        "can_sign": can_sign,
        "consent": consent,
        "sign_form": sign_form,
        "sign_elsewhere": [] if can_sign else elsewhere,
        "can_validate": region and version.status == VersionStatus.SIGNED,
        "can_reject": region and version.status.is_open,
        "validate_form": forms.get("validate_form")
        or ValidateVersionForm(formdata=None, prefix="validate"),
        "reject_form": forms.get("reject_form")
        or RejectVersionForm(formdata=None, prefix="reject"),
        "button_form": EmptyForm(formdata=None),
    }


def version_context(
    operation: Operation,
    convention: Convention,
    version: ConventionVersion,
    *,
    previous: ConventionVersion | None = None,
    amends: bool = False,
    **forms,
) -> dict:
    """The whole version page: the frozen text, the diff since ``previous``, signatures.

    ``amends``: ``previous`` is the version this amendment amends, which the reader never
    opened (the diff then says what the amendment changes)."""
    # Only the version collecting signatures, or the one in force, can be overtaken.
    current = [
        v.id for v in (services.open_version(convention), services.in_force(convention)) if v
    ]
    changed = services.changes_since(convention, version) if version.id in current else []
    return {
        "operation": operation,
        "convention": convention,
        "previous": previous,
        "amends": amends,
        # The reader's own signature of the earlier version, voided by this one.
        "voided_own": (
            [
                s
                for s in previous.signatures
                if s.user_id == current_user.id and s.voided_at is not None
            ]
            if previous is not None
            else []
        ),
        "diff": (
            diffs.snapshot_diff(services.snapshot_of(previous), services.snapshot_of(version))
            if previous is not None
            else None
        ),
        "changed_titles": diffs.part_titles(changed),
        "design_changed": "design" in changed,
        "in_force": services.in_force(convention),
        **text_context(version),
        **signing_context(operation, convention, version, **forms),
    }
