"""What « À faire » is made of: a duty, its urgency, its order, its lazy label and link —
shared by the rules over one operation (``duties.py``) and across operations
(``across.py``)."""

from dataclasses import dataclass

from flask import url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from portal.core.french import de
from portal.operations.models import Operation, Status

# Lower first: what blocks others (a signature, a validation, a recruitment to correct),
# then the decisions others wait for, then the rest of the work.
BLOCKING, DECISION, WORK = 0, 1, 2
NEED_STEPS = (Status.NEED_REPORTED, Status.ANALYSIS)
RECRUITING_STEPS = (Status.RECRUITMENT, Status.TRAINING)


@dataclass(frozen=True)
class Duty:
    """One thing expected of the current organisation or user, with where to do it.

    ``label`` and ``url`` are lazy (``_l``, ``link``): they are built only when shown, so
    that a count or a page of the list does not translate and route every duty (#16)."""

    label: str | LazyString
    url: str | LazyString
    operation: Operation | None  # across operations, an ``rows.OperationRef``
    kind: str
    urgency: int = WORK


def order_key(duty: Duty) -> tuple:
    """The order of « À faire »: the most urgent first, then by operation (its title, then
    its id), then in the order the rules found them (``sorted`` is stable) — never by
    label, so that ordering needs no label."""
    operation = duty.operation
    if operation is None:
        return (duty.urgency, "", 0)
    return (duty.urgency, operation.title, operation.id)


def link(endpoint: str, anchor: str | None = None, **values) -> LazyString:
    """``url_for(endpoint, **values)`` (with ``#anchor``), built when first read."""
    return LazyString(_url, endpoint, anchor, values)


def _url(endpoint: str, anchor: str | None, values: dict) -> str:
    url = url_for(endpoint, **values)
    return f"{url}#{anchor}" if anchor else url


def signature_label(user_id: int, signer_id: int | None, signer_name: str, number: int):
    """What a version awaiting ``org``'s signature asks: its signer (``signer_id``, the
    user ``user_id`` or another) signs, or one is to be designated (lazy)."""
    if signer_id == user_id:
        return _l("Signer la version %(n)s de la convention.", n=number)
    if signer_id is not None:
        return _l("La version %(n)s de la convention attend la signature %(of_name)s pour "
                  "votre organisation.", n=number, of_name=de(signer_name))  # fmt: skip
    return _l("La version %(n)s de la convention attend la signature de votre organisation : "
              "désignez son ou sa signataire.", n=number)  # fmt: skip
