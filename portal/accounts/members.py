"""The people of several organisations: their active, enabled members, read once per
request (the convention page's signer choices and its comments' mentions ask the same)."""

from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.core.memo import remember
from portal.extensions import db


def members_by_org(organisation_ids) -> dict[int, list[User]]:
    """Active, enabled members of each organisation, by name (one query, none for no
    organisation). The lists are shared for the request: read them, do not change them."""
    ids = tuple(sorted(set(organisation_ids)))
    if not ids:
        return {}
    return remember(("accounts.members_by_org", ids), lambda: members_of(ids))


def members_of(organisation_ids, *where) -> dict[int, list[User]]:
    """Active, enabled members of each organisation matching ``where`` (tutors, say), by
    name, in one query (none for no organisation); not remembered."""
    ids = list(organisation_ids)
    members: dict[int, list[User]] = {org_id: [] for org_id in ids}
    if not ids:
        return members
    rows = db.session.execute(
        select(User, Membership.organisation_id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id.in_(ids),
            Membership.active.is_(True),
            User.is_enabled.is_(True),
            *where,
        )
        .order_by(User.last_name, User.first_name, User.id)
    ).all()
    for user, organisation_id in rows:
        members[organisation_id].append(user)
    return members
