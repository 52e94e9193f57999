"""« Emploi durable », as France Travail and the DARES count it: the portal's one definition.

Lasting: a CDI; a CDD, an intérim mission or a contrat en alternance of six months or more;
the creation of a business. Promises, follow-ups and indicators all ask ``is_lasting`` (or
its SQL twin ``lasting_sql``); nobody ever types « durable »: it is derived from the
situation and its duration.

A contract whose duration is not known is not counted as lasting. A job promise records its
contract as the employer says it (``ContractType``, below): a CDI or a business creation;
a CDD, an intérim mission or an alternance (apprentissage, professionnalisation) with its
duration in months. The same rule applies to it: ``contract_is_lasting`` (and its SQL twin
``contract_lasting_sql``) map the contract to its situation and ask ``is_lasting``. The
promises recorded before durations were asked for (issue #12) say « CDD » or « contrat en
alternance » without a duration: they are not lasting until someone gives it.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, case, func, or_

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


# --- The contract a job promise names ----------------------------------------------------

MONTHS_MAX = 120  # a contract's duration in months, as the database accepts it


@titled(
    {
        "cdi": _l("CDI"),
        "cdd": _l("CDD"),
        "interim": _l("Intérim"),
        "apprenticeship": _l("Contrat d'apprentissage"),
        "professionalisation": _l("Contrat de professionnalisation"),
        "business_creation": _l("Création d'entreprise"),
        "alternance": _l("Contrat en alternance (type à préciser)"),
    }
)
class ContractType(TitledEnum):
    """The contract an employer promises (or a position offers), as the employer says it.

    ``ALTERNANCE`` is kept for the promises recorded before the two kinds of alternance
    were told apart (issue #12): it is no longer offered to new positions.
    """

    CDI = "cdi"
    CDD = "cdd"
    INTERIM = "interim"
    APPRENTICESHIP = "apprenticeship"
    PROFESSIONALISATION = "professionalisation"
    BUSINESS_CREATION = "business_creation"
    ALTERNANCE = "alternance"

    @property
    def situation(self) -> Situation:
        """The follow-up situation this contract is."""
        return CONTRACT_SITUATIONS[self]

    @property
    def needs_duration(self) -> bool:
        """A CDD, an intérim or an alternance is lasting or not after its duration."""
        return self.situation.needs_duration

    @classmethod
    def offered(cls) -> list[tuple[str, object]]:
        """(value, lazy title) of the contracts a new position may promise."""
        return [(c.value, c.lazy_title) for c in cls if c != cls.ALTERNANCE]


CONTRACT_SITUATIONS = {
    ContractType.CDI: Situation.CDI,
    ContractType.CDD: Situation.CDD,
    ContractType.INTERIM: Situation.INTERIM,
    ContractType.APPRENTICESHIP: Situation.ALTERNANCE,
    ContractType.PROFESSIONALISATION: Situation.ALTERNANCE,
    ContractType.BUSINESS_CREATION: Situation.BUSINESS_CREATION,
    ContractType.ALTERNANCE: Situation.ALTERNANCE,
}


def contract_is_lasting(contract: ContractType, months: int | None) -> bool:
    """The shared rule applied to a promised contract: CDI, business creation, or a CDD, an
    intérim or an alternance whose known duration is ``LASTING_MONTHS`` months or more."""
    return is_lasting(contract.situation, months)


def contract_lasting_sql(contract_column, months_column):
    """The SQL condition of ``contract_is_lasting`` on a contract column and its months."""
    situation = case(
        *((contract_column == c.value, s.value) for c, s in CONTRACT_SITUATIONS.items()),
        else_="",
    )
    return lasting_sql(situation, months_column)


def contract_problem(contract: ContractType, months: int | None) -> tuple[str, str] | None:
    """(field, French reason) when a contract and its duration do not go together: a CDD,
    an intérim or an alternance needs its duration (1 to ``MONTHS_MAX`` months)."""
    if not contract.needs_duration:
        return None
    if months is None:
        return "duration_months", _(
            "Indiquez la durée du contrat en mois : un CDD, une mission d'intérim ou un "
            "contrat en alternance est un emploi durable à partir de %(n)d mois.",
            n=LASTING_MONTHS,
        )
    if not 1 <= months <= MONTHS_MAX:
        return "duration_months", _("Durée attendue entre 1 et %(n)d mois.", n=MONTHS_MAX)
    return None


def contract_months(contract: ContractType, months: int | None) -> int | None:
    """The duration kept for ``contract``: its months when it needs them, else None."""
    return months if contract.needs_duration else None


class ContractTerms:
    """For a row naming a contract (``contract_type``) and its ``duration_months``: a
    position, a job promise."""

    @property
    def is_lasting(self) -> bool:
        """« Emploi durable » by the shared rule."""
        return contract_is_lasting(self.contract_type, self.duration_months)

    @property
    def contract_label(self) -> str:
        """The contract as people say it (« CDD de 4 mois »)."""
        return contract_label(self.contract_type, self.duration_months)


def contract_label(contract: ContractType, months: int | None) -> str:
    """The contract in French as people say it: « CDI », « CDD de 4 mois », « Contrat
    d'apprentissage de 24 mois », « CDD (durée non précisée) »."""
    if not contract.needs_duration:
        return contract.title
    if months is None:
        return _("%(contract)s (durée non précisée)", contract=contract.title)
    return ngettext(
        "%(contract)s de %(num)d mois",
        "%(contract)s de %(num)d mois",
        months,
        contract=contract.title,
    )
