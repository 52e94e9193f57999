"""« Emploi durable », as France Travail and the DARES count it: the portal's one definition.

Lasting: a CDI; a CDD, an intérim mission or a contrat en alternance of six months or more;
the creation of a business. Promises, follow-ups and indicators all ask ``is_lasting`` (or
its SQL twin ``lasting_sql``); nobody ever types « durable »: it is derived from the
situation and its duration.

A contract whose duration is not known is not counted as lasting. A job promise names a
contract type, not always a duration (``operations.models.ContractType``): « CDD de 6 mois
ou plus » is lasting, an intérim or an alternance promise is not until an answer gives its
duration — the promises keep the behaviour they had before this module.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_

from portal.core.enums import TitledEnum, titled

LASTING_MONTHS = 6


@titled(
    {
        "cdi": _l("CDI"),
        "cdd": _l("CDD"),
        "interim": _l("Intérim"),
        "alternance": _l("Contrat en alternance"),
        "business_creation": _l("Création d'entreprise"),
        "training": _l("En formation"),
        "job_seeking": _l("En recherche d'emploi"),
        "no_news": _l("Sans nouvelles"),
        "other": _l("Autre situation"),
    }
)
class Situation(TitledEnum):
    """A person's situation at a follow-up, from the fixed taxonomy of the reporting."""

    CDI = "cdi"
    CDD = "cdd"
    INTERIM = "interim"
    ALTERNANCE = "alternance"
    BUSINESS_CREATION = "business_creation"
    TRAINING = "training"
    JOB_SEEKING = "job_seeking"
    NO_NEWS = "no_news"
    OTHER = "other"

    @property
    def is_salaried(self) -> bool:
        """A job with an employer (who is then named)."""
        return self in SALARIED

    @property
    def needs_duration(self) -> bool:
        """Lasting or not depends on the contract's duration in months."""
        return self in WITH_DURATION

    @property
    def is_employment(self) -> bool:
        """In employment: a salaried job or a business of one's own."""
        return self in EMPLOYMENT


SALARIED = frozenset({Situation.CDI, Situation.CDD, Situation.INTERIM, Situation.ALTERNANCE})
WITH_DURATION = frozenset({Situation.CDD, Situation.INTERIM, Situation.ALTERNANCE})
ALWAYS_LASTING = frozenset({Situation.CDI, Situation.BUSINESS_CREATION})
EMPLOYMENT = SALARIED | {Situation.BUSINESS_CREATION}


def is_lasting(situation: Situation, duration_months: int | None = None) -> bool:
    """True for an « emploi durable »: CDI, business creation, or a CDD, an intérim or an
    alternance of ``LASTING_MONTHS`` months or more (an unknown duration is not enough)."""
    if situation in ALWAYS_LASTING:
        return True
    if situation in WITH_DURATION:
        return duration_months is not None and duration_months >= LASTING_MONTHS
    return False


def lasting_sql(situation_column, months_column):
    """The SQL condition of ``is_lasting`` on two columns (a situation and its months)."""
    return or_(
        situation_column.in_(sorted(ALWAYS_LASTING)),
        and_(
            situation_column.in_(sorted(WITH_DURATION)),
            func.coalesce(months_column, 0) >= LASTING_MONTHS,
        ),
    )


def employment_sql(situation_column):
    """The SQL condition of ``Situation.is_employment`` on a situation column."""
    return situation_column.in_(sorted(EMPLOYMENT))
