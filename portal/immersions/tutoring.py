"""Tutors: who is one, and who tutors each immersion.

The employers commit in the convention to designate a tutor for each trainee they host
(DOMAIN.md, « Rules the sheet implies »), so:

- an organisation's admins (or the Région's) decide which members are tutors, and only
  an employer has tutors; a tutor need not be an admin;
- the host employer's admins designate the tutor of each of its immersions; the organisme
  porteur may only suggest one (``Immersion.suggested_tutor_id``), which the employer
  confirms or replaces;
- a change of tutor tells the former and the new tutor, and the organisme, who must brief
  the new one again (the checklist item is unticked);
- a tutor sees a trainee only while designated and a member of the host employer
  (``recruitment/access.py``).

The verbs check their rules, write the audit log and the timeline, notify; they flush and
never commit.
"""

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import exists, select

from portal.accounts.members import members_of
from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.french import de
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import Immersion, TutorAssessment
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event


def tutors_by_employer(employer_ids) -> dict[int, list[User]]:
    """Active tutors of each employer (one query), by name."""
    return members_of(employer_ids, Membership.is_tutor.is_(True))


def is_tutor_of(user: User, employer_id: int) -> bool:
    """``user`` is an active tutor of the employer."""
    return user.id in {u.id for u in tutors_by_employer([employer_id])[employer_id]}


def check_tutor(tutor: User | None, employer: Organisation, field: str = "tutor_id") -> None:
    """Raise unless ``tutor`` (when given) is an active tutor of ``employer``."""
    if tutor is not None and not is_tutor_of(tutor, employer.id):
        raise RuleError(
            _(
                "%(who)s n'est pas tuteur·rice %(of_org)s.",
                who=tutor.full_name,
                of_org=de(employer.name),
            ),
            field,
        )


def _period(immersion: Immersion) -> str:
    return _(
        "du %(a)s au %(b)s",
        a=format_date(immersion.starts_on, "short"),
        b=format_date(immersion.ends_on, "short"),
    )


def _assessed(immersion: Immersion) -> bool:
    """The immersion has an assessment (current or superseded). Asked of the database:
    ``Immersion.assessment`` is a view-only relationship (issue #11 L17), which an
    assessment added in this session does not update."""
    return bool(
        db.session.scalar(select(exists().where(TutorAssessment.immersion_id == immersion.id)))
    )


# --- The tutor role of a member ----------------------------------------------------------------


def open_designations(user_id: int, employer_id: int) -> list[Immersion]:
    """Immersions of the employer that ``user_id`` tutors and that are not over yet."""
    return list(
        db.session.scalars(
            select(Immersion)
            .where(
                Immersion.tutor_id == user_id,
                Immersion.employer_id == employer_id,
                Immersion.ends_on >= rules.today(),
            )
            .order_by(Immersion.starts_on, Immersion.id)
        )
    )


def set_tutor_role(membership: Membership, is_tutor: bool, *, by: User) -> None:
    """Mark a member of an employer as tutor, or withdraw the role.

    The role is withdrawn only once another tutor is designated for the member's current
    and coming immersions; suggestions naming them lapse with it.
    """
    if not membership.active:
        raise RuleError(_("Ce membre est désactivé."))
    organisation = membership.organisation
    if organisation.kind != OrgKind.EMPLOYER:
        raise RuleError(_("Seul·es les membres d'une entreprise sont tuteur·rices."))
    if membership.is_tutor == is_tutor:
        raise RuleError(
            _("%(name)s est déjà tuteur·rice.", name=membership.user.full_name)
            if is_tutor
            else _("%(name)s n'est pas tuteur·rice.", name=membership.user.full_name)
        )
    lapsed = 0
    if not is_tutor:
        designated = open_designations(membership.user_id, organisation.id)
        if designated:
            raise RuleError(
                _(
                    "%(name)s accompagne encore %(n)d immersion(s) en cours ou à venir "
                    "(%(who)s) : désignez d'abord un·e autre tuteur·rice.",
                    name=membership.user.full_name,
                    n=len(designated),
                    who=", ".join(sorted({i.trainee.full_name for i in designated})),
                )
            )
        for immersion in db.session.scalars(
            select(Immersion).where(
                Immersion.suggested_tutor_id == membership.user_id,
                Immersion.employer_id == organisation.id,
            )
        ):
            immersion.suggested_tutor_id = None
            lapsed += 1
    membership.is_tutor = is_tutor
    db.session.flush()
    record(
        "membership.tutor_changed",
        actor=by,
        organisation=organisation,
        obj=membership,
        user_id=membership.user_id,
        is_tutor=is_tutor,
        lapsed_suggestions=lapsed,
    )
    if membership.user_id != by.id:
        notify(
            [membership.user],
            kind="tutor_role",
            message=(
                _(
                    "%(org)s vous nomme tuteur·rice : vous accompagnerez les stagiaires en "
                    "immersion qui vous seront confié·es.",
                    org=organisation.name,
                )
                if is_tutor
                else _("Votre rôle de tuteur·rice chez %(org)s a pris fin.", org=organisation.name)
            ),
            endpoint="tutoring.tutor_home",
        )


# --- Who tutors an immersion -------------------------------------------------------------------


def can_designate(immersion: Immersion, user: User, org: Organisation | None) -> bool:
    """An admin of the host employer, acting for it."""
    if org is None or org.id != immersion.employer_id:
        return False
    return any(m.organisation_id == org.id and m.is_admin for m in user.active_memberships())


def designate_tutor(
    immersion: Immersion, tutor: User | None, *, by: User, org: Organisation
) -> None:
    """The host employer designates (or confirms, or withdraws) the immersion's tutor.

    The suggestion, if any, is settled; a new tutor must be briefed again; the former and
    the new tutor and the organisme are told. Once the tutor has assessed the immersion,
    the tutor stays (the assessment is theirs).
    """
    if not can_designate(immersion, by, org):
        raise RuleError(
            _("Seule l'entreprise d'accueil désigne le ou la tuteur·rice de ses stagiaires.")
        )
    operation = immersion.operation
    rules.check_running(operation)
    check_tutor(tutor, immersion.employer)
    if _assessed(immersion):
        raise RuleError(
            _("Le ou la tuteur·rice a déjà évalué cette immersion : le tutorat ne change plus."),
            "tutor_id",
        )
    former = immersion.tutor
    if getattr(tutor, "id", None) == immersion.tutor_id:
        raise RuleError(
            _("%(who)s est déjà tuteur·rice de cette immersion.", who=tutor.full_name)
            if tutor
            else _("Aucun·e tuteur·rice n'est désigné·e pour cette immersion."),
            "tutor_id",
        )
    confirmed = tutor is not None and tutor.id == immersion.suggested_tutor_id
    immersion.tutor = tutor
    immersion.suggested_tutor_id = None
    immersion.tutor_briefed = False
    # « Prête » needs a tutor, briefed: a change takes the immersion back to « à préparer ».
    immersion.prepared_at = immersion.prepared_by_id = None
    db.session.flush()
    log_event(
        operation,
        "tutor_designated" if tutor else "tutor_withdrawn",
        by=by,
        org=org,
        employer=org.name,
        confirmed=confirmed,
    )
    trainee, period = immersion.trainee.full_name, _period(immersion)
    if tutor is not None:
        notify(
            [tutor],
            kind="tutor_designated",
            message=_(
                "%(org)s vous désigne tuteur·rice %(of_trainee)s pour l'immersion %(period)s "
                "(« %(title)s »).",
                org=org.name,
                of_trainee=de(trainee),
                period=period,
                title=operation.title,
            ),
            endpoint="tutoring.tutor_home",
            operation=operation,
            # No name in a subject (issue #17): lock screens and mail lists show it.
            email_subject=_("Tutorat : vous êtes désigné·e pour une immersion"),
        )
    if former is not None:
        notify(
            [former],
            kind="tutor_replaced",
            message=_(
                "Vous n'êtes plus tuteur·rice %(of_trainee)s pour l'immersion %(period)s "
                "chez %(org)s.",
                of_trainee=de(trainee),
                period=period,
                org=org.name,
            ),
            endpoint="tutoring.tutor_home",
            operation=operation,
            email_subject=_("Tutorat : une immersion confiée à une autre personne"),
        )
    if operation.provider_id:
        notify(
            organisation_members(operation.provider_id),
            kind="tutor_designated",
            message=(
                _(
                    "%(org)s désigne %(who)s tuteur·rice %(of_trainee)s (immersion %(period)s) : "
                    "informez-le ou la et complétez la préparation.",
                    org=org.name,
                    who=tutor.full_name,
                    of_trainee=de(trainee),
                    period=period,
                )
                if tutor
                else _(
                    "%(org)s retire le ou la tuteur·rice %(of_trainee)s (immersion %(period)s).",
                    org=org.name,
                    of_trainee=de(trainee),
                    period=period,
                )
            ),
            endpoint="immersions.show_immersion",
            operation=operation,
            operation_id=operation.id,
            immersion_id=immersion.id,
        )


def suggest_tutor(immersion: Immersion, tutor: User | None, *, by: User, org: Organisation) -> bool:
    """The organisme's suggestion of a tutor for ``immersion`` (None: no suggestion).

    Nothing changes when the suggestion names the designated tutor, or repeats itself;
    otherwise the host employer's admins are asked to confirm. True when it changed.
    """
    check_tutor(tutor, immersion.employer)
    wanted = getattr(tutor, "id", None)
    if wanted == immersion.tutor_id:
        wanted = None
    if wanted is not None and _assessed(immersion):
        raise RuleError(
            _(
                "Le ou la tuteur·rice a déjà évalué cette immersion : l'entreprise et le tutorat "
                "ne changent plus."
            ),
            "tutor_id",
        )
    if wanted == immersion.suggested_tutor_id:
        return False
    immersion.suggested_tutor_id = wanted
    db.session.flush()
    if wanted is None:
        return True
    log_event(
        immersion.operation, "tutor_suggested", by=by, org=org, employer=immersion.employer.name
    )
    notify(
        organisation_members(immersion.employer_id, admins_only=True),
        kind="tutor_suggested",
        message=_(
            "%(org)s suggère %(who)s comme tuteur·rice %(of_trainee)s (immersion %(period)s) : "
            "confirmez ou désignez une autre personne.",
            org=org.name,
            who=tutor.full_name,
            of_trainee=de(immersion.trainee.full_name),
            period=_period(immersion),
        ),
        endpoint="tutoring.tutor_home",
        operation=immersion.operation,
        email_subject=_("Tutorat : une désignation attend votre confirmation"),
    )
    return True
