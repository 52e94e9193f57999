"""Invitations to join an organisation: send one (by e-mail, a single-use link), accept it
(a new account, or an existing one proven by its password) and revoke it.

They ``flush()`` and never commit: the view commits once per request.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts import throttle
from portal.accounts.models import Invitation, Organisation, OrgKind, User
from portal.accounts.passwords import verify_password
from portal.accounts.services import (
    ThrottledRuleError,
    _find_link,
    _refuse_if_throttled,
    active_membership,
    add_membership,
    client_ip,
    create_user,
    new_token,
    normalize_email,
    user_by_email,
)
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.time import utcnow
from portal.core.urls import absolute_url
from portal.extensions import db
from portal.mail.services import queue_mail


def invite(
    email: str,
    organisation: Organisation,
    *,
    by: User,
    is_admin: bool = False,
    is_tutor: bool = False,
) -> tuple[Invitation, str]:
    """Invite ``email`` to join ``organisation`` (as a tutor, for an employer); a pending
    invitation for it is replaced."""
    if is_tutor and organisation.kind != OrgKind.EMPLOYER:
        raise RuleError(_("Seul·es les membres d'une entreprise sont tuteur·rices."), "is_tutor")
    email = normalize_email(email)
    user = user_by_email(email)
    if user and active_membership(user, organisation):
        raise RuleError(
            _("Cette personne est déjà membre %(of_org)s.", of_org=de(organisation.name)), "email"
        )
    now = utcnow()
    for previous in db.session.scalars(
        select(Invitation).where(
            Invitation.email == email,
            Invitation.organisation_id == organisation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        previous.revoked_at = now
    token, token_hash = new_token()
    invitation = Invitation(
        email=email,
        organisation=organisation,
        is_admin=is_admin,
        is_tutor=is_tutor,
        token_hash=token_hash,
        invited_by_id=by.id,
        expires_at=now + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    link = absolute_url("accounts.accept_invitation", token=token)
    queue_mail(
        email,
        _("Invitation à rejoindre %(org)s sur le Portail DEFI", org=organisation.name),
        _(
            "Bonjour,\n\n%(who)s vous invite à rejoindre %(org)s sur le Portail DEFI, "
            "où entreprises, organismes de formation, partenaires et la Région construisent "
            "ensemble des formations sur mesure.\n\nPour accepter, ouvrez ce lien (valable "
            "%(days)d jours, une seule fois) :\n%(link)s\n\nSi vous n'attendiez pas ce message, "
            "ignorez-le.\n",
            who=by.full_name,
            org=organisation.name,
            days=current_app.config["INVITATION_DAYS"],
            link=link,
        ),
    )
    record(
        "invitation.sent",
        actor=by,
        organisation=organisation,
        obj=invitation,
        email=email,
        is_admin=is_admin,
        is_tutor=is_tutor,
    )
    return invitation, token


def find_invitation(token: str) -> tuple[Invitation | None, str | None]:
    """The invitation for ``token`` and, if it cannot be used, why."""
    return _find_link(Invitation, token, "accepted_at", "revoked_at")


def accept_invitation(
    invitation: Invitation, *, first_name="", last_name="", password="", phone=""
) -> User:
    """Accept ``invitation``: create the account (or use the existing one) and the membership."""
    if not invitation.is_pending:
        raise RuleError(_("Cette invitation n'est plus valable."))
    user = user_by_email(invitation.email)
    if user is not None and not user.is_enabled:
        raise RuleError(
            _(
                "Ce compte est désactivé : contactez la Région pour le réactiver "
                "avant de rejoindre "
                "une organisation."
            )
        )
    if user is not None and user.id == invitation.invited_by_id:
        # Whoever invites an organisation never becomes its member (issue #11 M6).
        raise RuleError(_("On ne rejoint pas une organisation par sa propre invitation."))
    if user is None:
        user = create_user(invitation.email, first_name, last_name, password, phone)
    else:
        ip = client_ip()
        _refuse_if_throttled(user.email, ip)
        ok, _new = verify_password(user.password_hash, password)
        if not ok:
            throttle.record_failure(user.email, ip)
            raise ThrottledRuleError(_("Mot de passe incorrect."), "password")
        throttle.record_success(user.email, ip)
    add_membership(
        user,
        invitation.organisation,
        is_admin=invitation.is_admin,
        is_tutor=invitation.is_tutor,
        by=user,
    )
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    record("invitation.accepted", actor=user, organisation=invitation.organisation, obj=invitation)
    return user


def revoke_invitation(invitation: Invitation, *, by: User) -> None:
    """Cancel a pending invitation; its link then says so."""
    if not invitation.is_pending:
        raise RuleError(_("Cette invitation n'est plus en attente."))
    invitation.revoked_at = utcnow()
    record("invitation.revoked", actor=by, organisation=invitation.organisation, obj=invitation)
