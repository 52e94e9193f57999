"""Presence and live updates of the co-design page: short polling, not server-sent events.

Why polling. Production runs gunicorn with two *sync* workers: a worker serves one
request at a time, start to finish. Server-sent events keep a response open for as long
as the page is open, so two people on the design would pin both workers and the portal
would stop answering everyone else (SSE wants async or threaded workers, plus a
broadcast channel between the worker processes). A short poll holds a worker for a few
milliseconds every 3 seconds per open page, and a change reaches the other pages within
one period (3 s, inside the 5 s promised). A page also polls at once after one of its
sections was opened, saved or cancelled, so the others learn it within one period too.

Why POST. Each poll records the caller's presence ("on the design", "editing this
section"): it changes state, so it is a POST carrying the CSRF token like every htmx
request — GET never changes anything in this portal.

Why a token rather than ETag / 304. A POST is not a conditional request, and htmx swaps
nothing on a 204 (base.html's ``responseHandling``). The page sends back the opaque token
of the state it shows (``state_token``: section versions and validations, comment threads,
who is present and editing); the server compares it with the current one:

- unchanged: one UPDATE (presence) and the token's three small indexed queries, on top
  of the login's, then ``204 No Content`` — no template, no body (tests/bench_design.py
  measures it);
- changed: ``200`` made only of out-of-band fragments (the poller has ``hx-swap="none"``):
  the new token, every section whose version differs from the one the page shows *except*
  a section the page is editing — that one only gets a French warning in
  ``#changed-<key>``: the form is never overwritten, its save will merge —, the presence
  list, who is editing each section, and the comment badges.

The poller stays in the page (replacing it would restart its timer and strand requests
queued on the old element); it sends the token and the versions known at the last poll
from its hidden inputs, and static/js/app.js adds what the page shows (``data-version``
and ``data-mode`` of each section). A presence not refreshed for ``PRESENCE_SECONDS``
disappears by itself; ``leave`` removes it at once when the page is closed (a beacon
from app.js).
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import abort, current_app, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.accounts.access import current_org
from portal.core.actions import commit_keeping_loaded
from portal.core.time import utcnow
from portal.design import bp
from portal.design.context import load, section_context, shared_context
from portal.design.models import Design, DesignPresence, SectionKey
from portal.design.presence import PRESENCE_SECONDS, touch_presence
from portal.design.queries import open_counts, state_token, threads_by_section
from portal.extensions import db
from portal.operations.access import visible_operations
from portal.operations.models import Operation

LIVE = "design/_live.html"
SECTION_KEYS = {key.value for key in SectionKey}


@dataclass(frozen=True)
class Person:
    """Someone else who has the design open, as the presence list shows them."""

    name: str
    organisation: str
    editing: SectionKey | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organisation})"


def _visible_design_id(operation_id: int) -> int:
    """The design's id, or 404 when the operation is not visible or has no design.

    The same access rule as ``load_operation`` (``visible_operations``), in one query
    instead of three (operation, visibility, design): this runs every 3 s per open page.
    """
    query = visible_operations(
        select(Design.id)
        .join(Operation, Operation.id == Design.operation_id)
        .where(Design.operation_id == operation_id)
    )
    design_id = db.session.scalar(query)
    if design_id is None:
        abort(404)
    return design_id


def _keys(raw: str) -> list[str]:
    """Known section keys from a comma-separated value sent by the page, in order."""
    return [key for key in (part.strip() for part in raw.split(",")) if key in SECTION_KEYS]


def _versions(raw: str) -> dict[str, int]:
    """``"skills:3,modules:5"`` -> ``{"skills": 3, "modules": 5}``; junk is ignored."""
    versions = {}
    for pair in raw.split(","):
        key, _sep, number = pair.partition(":")
        key = key.strip()
        if key in SECTION_KEYS and number.strip().isdigit():
            versions[key] = int(number)
    return versions


def _touch(design_id: int, editing: str) -> None:
    """Refresh the caller's presence: one UPDATE; the row is created on the first poll."""
    org = current_org()
    values = {"organisation_id": org.id, "editing": editing, "seen_at": utcnow()}
    updated = db.session.execute(
        update(DesignPresence)
        .where(DesignPresence.design_id == design_id, DesignPresence.user_id == current_user.id)
        .values(**values)
    ).rowcount
    if updated:
        return
    try:
        # Two tabs of the same person may both create the row: the loser just updates it.
        with db.session.begin_nested():
            touch_presence(
                db.session.get(Design, design_id), user=current_user, org=org, editing=editing
            )
    except IntegrityError:
        db.session.execute(
            update(DesignPresence)
            .where(DesignPresence.design_id == design_id, DesignPresence.user_id == current_user.id)
            .values(**values)
        )


def _presence_since():
    return utcnow() - timedelta(seconds=PRESENCE_SECONDS)


def others_present(design_id: int) -> list[Person]:
    """Who else had the design open in the last ``PRESENCE_SECONDS``, by name (one query)."""
    presences = db.session.scalars(
        select(DesignPresence)
        .where(
            DesignPresence.design_id == design_id,
            DesignPresence.seen_at >= _presence_since(),
            DesignPresence.user_id != current_user.id,
        )
        .options(joinedload(DesignPresence.user), joinedload(DesignPresence.organisation))
    ).all()
    people = [
        Person(
            p.user.full_name,
            p.organisation.name,
            SectionKey(p.editing) if p.editing in SECTION_KEYS else None,
        )
        for p in presences
    ]
    return sorted(people, key=lambda person: (person.name, person.organisation))


@bp.app_template_global("design_presence")
def design_presence(design: Design) -> list[Person]:
    """For templates: the presence list as the page first shows it (reads only)."""
    return others_present(design.id)


def _render(templates: list[tuple[str, dict]]) -> str:
    """Render several templates with one shared request context.

    ``render_template`` would run the context processors (and their queries) once per
    section; they are the same for every fragment of one response.
    """
    base: dict = {}
    current_app.update_template_context(base)
    env = current_app.jinja_env
    return "".join(env.get_template(name).render({**base, **ctx}) for name, ctx in templates)


def _section_fragments(design, shown, seen, editing, threads) -> tuple[list, list]:
    """Sections to refresh out of band, and warnings for the sections being edited."""
    fragments, warnings = [], []
    maps = None
    for section in design.sections:
        key = section.key.value
        if key not in shown or section.version == shown[key]:
            continue
        if key not in editing:
            if maps is None:  # what every section reads, computed once for the response
                maps = {"shared": shared_context(design), "threads": threads}
                maps["counts"] = open_counts(design)
            fragments.append(("design/_section.html", section_context(design, section, **maps)))
        elif (
            section.version > seen.get(key, shown[key]) and section.updated_by_id != current_user.id
        ):
            who = section.updated_by.full_name if section.updated_by else _("quelqu'un")
            if section.updated_org:
                who = f"{who} ({section.updated_org.name})"
            warnings.append((key, who))
    return fragments, warnings


@bp.post("/etat")
@login_required
def poll(operation_id: int):
    """One poll of an open design page: 204 when nothing changed, else the OOB updates."""
    design_id = _visible_design_id(operation_id)
    editing = _keys(request.form.get("editing", ""))
    _touch(design_id, editing[0] if editing else "")
    token = state_token(design_id, presence_since=_presence_since())
    # The write is done: free the database before reading more. The poll wrote only its
    # own presence row; the logged-in user and their memberships are as fresh as they were,
    # and expiring them would make the after-request hooks (which read ``current_user``)
    # load them again: two more queries on every poll.
    commit_keeping_loaded()
    if token == request.form.get("token"):
        return "", 204
    _operation, design = load(operation_id)
    shown = _versions(request.form.get("versions", ""))
    seen = _versions(request.form.get("seen", ""))
    threads = threads_by_section(design)
    fragments, warnings = _section_fragments(design, shown, seen, set(editing), threads)
    people = others_present(design_id)
    live = {
        "design": design,
        "token": token,
        "update": True,
        "warnings": warnings,
        "people": people,
        "editors": {
            key: [p for p in people if p.editing and p.editing.value == key] for key in shown
        },
        "badges": [(s, threads.get(s.id, [])) for s in design.sections if s.key.value in shown],
    }
    # Sections first: the indicators and badges that follow land in the fresh sections.
    return _render([*((name, {**ctx, "oob": True}) for name, ctx in fragments), (LIVE, live)])


@bp.post("/depart")
@login_required
def leave(operation_id: int):
    """The page is being closed: drop the caller's presence now rather than in 30 s."""
    design_id = _visible_design_id(operation_id)
    db.session.execute(
        delete(DesignPresence).where(
            DesignPresence.design_id == design_id, DesignPresence.user_id == current_user.id
        )
    )
    db.session.commit()
    return "", 204
