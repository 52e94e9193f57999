"""The harness of the fuzz tests (issue #17): the demo as the routes find it, a person
who may act on each route, posting a generated body, and the checks every answer passes.

``Demo`` loads the demo data (with a live invitation and password-reset link) and puts it
back after a case that wrote; ``Demo.url`` fills a route's arguments with real rows (the
first row of the most specific argument's table, its parents for the others: a position's
need gives the operation and the employer); ``Demo.reach`` finds, among the demo's
accounts (in an order that suits the area), the first whose empty POST is neither « not
found », « refused » nor sent to the login page, and records the forms the view built.
The strategies are in tests/fuzzing.py.
"""

from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.design.models import SectionKey
from portal.extensions import db
from tests.fuzzing import StoredTextCheck, captured_forms, form_fields, request_body
from tests.support import (
    ARGUMENT_TABLES,
    HTMX,
    all_rows,
    live_token_links,
    load_demo_copy,
    login_as,
    put_back_rows,
    snapshot,
)

CSRF_REFUSED = "Votre session a expiré"
# Columns the portal writes itself from the request, not from a form: what a browser
# sends as its User-Agent is kept as sent (« Mes sessions » shows it, escaped).
EXEMPT = {"user_sessions.user_agent"}
# What a refusal itself writes on purpose: a wrong password or an unknown document counts
# towards the throttle; a failed login is in the audit log (refused, and kept).
REFUSAL_BOOKKEEPING = {"login_failures"}
AUDITED_REFUSALS = {"accounts.login", "accounts.login_code", "accounts.confirm_identity"}
# An error shown (a form's summary, an error notice): the request was refused.
ERROR_SHOWN = 'class="alert alert--error" role="alert"'

# The operation a route of an area acts in, when no other argument names it: the first
# with a row of this table (the convention, the recruitment, the committee…).
OPERATION_OF_AREA = {
    "conventions": "conventions",
    "recruitment": "trainees",
    "immersions": "immersions",
    "followup": "followup_milestones",
    "steering": "steering_committees",
    "assessment": "assessments",
    "design": "designs",
}
GENERIC = {"operation_id", "org_id", "number", "key", "token", "name", "fmt"}
# Who is tried first in each area (then everyone else of the demo).
FIRST_TRIED = {
    "admin": ["region"],
    "lots": ["region"],
    "reporting": ["region"],
    "resources": ["region"],
    "tutoring": ["tuteur", "boulangerie"],
    "followup": ["of", "employeur"],
}
EVERYONE = [
    "region",
    "of",
    "of2",
    "employeur",
    "tuteur",
    "boulangerie",
    "entrepot",
    "partenaire",
    "mission.locale",
    "referent.orleans",
    "referente.tours",
]


def _table(name):
    return db.metadata.tables[name]


def _first_row(table_name: str, **where):
    table = _table(table_name)
    conditions = [table.c[k] == v for k, v in where.items() if k in table.c]
    query = select(table).where(*conditions).order_by(table.c.id).limit(1)
    return db.session.execute(query).mappings().first()


def _ancestry(table_name: str, row) -> dict:
    """The ``*_id`` (and ``key``) values of ``row`` and of its parents, nearest first."""
    found: dict = {}
    todo = [(table_name, row)]
    while todo:
        name, current = todo.pop(0)
        for column, value in current.items():
            if (column.endswith("_id") or column == "key") and value is not None:
                found.setdefault(column, value)
        for fk in _table(name).foreign_keys:
            parent = fk.column.table.name
            value = current.get(fk.parent.name)
            if value is not None and parent not in ("users", "organisations"):
                parent_row = _first_row(parent, id=value)
                if parent_row is not None:
                    todo.append((parent, parent_row))
    return found


# Per database: the links and the rows of the demo with them, read once per process.
_DEMOS: dict[str, tuple[dict, dict]] = {}


class Demo:
    """The demo data, a value for each URL argument and a person for each route."""

    def __init__(self, app):
        self.app = app
        key = str(app.config["SQLALCHEMY_DATABASE_URI"])
        if key not in _DEMOS:
            load_demo_copy(app)
            with app.test_request_context():
                links = live_token_links()
            _DEMOS[key] = (links, all_rows(app))
        self.tokens, self.rows = _DEMOS[key]
        put_back_rows(app, self.rows)
        self.before = snapshot(app)

    def restore(self) -> None:
        """Bring the demo (and its links) back when a case wrote something."""
        if snapshot(self.app) != self.before:
            put_back_rows(self.app, self.rows)
            self.before = snapshot(self.app)

    # --- URLs ---------------------------------------------------------------------------

    def url(self, rule) -> str:
        """The rule's path with real rows of the demo for its arguments."""
        with self.app.app_context():
            values = self._values(rule)
        return rule.rule if not rule.arguments else _fill(rule, values)

    def _values(self, rule) -> dict:
        area = rule.endpoint.split(".")[0]
        values: dict = {}
        specific = [a for a in sorted(rule.arguments) if a not in GENERIC]
        known: dict = {}
        if specific:
            row = _first_row(ARGUMENT_TABLES[specific[0]])
            values[specific[0]] = row["id"] if row else 1  # none yet: a 404 to fuzz
            known = _ancestry(ARGUMENT_TABLES[specific[0]], row) if row else {}
        if "operation_id" in rule.arguments:
            operation = known.get("operation_id")
            if operation is None and area == "archive":
                operation = _first_row("operations", status="closed")["id"]
            if operation is None and area in OPERATION_OF_AREA:
                operation = (_first_row(OPERATION_OF_AREA[area]) or {}).get("operation_id")
            values["operation_id"] = operation or _first_row("operations")["id"]
        operation_id = values.get("operation_id")
        for argument in specific[1:]:
            row = known.get(argument) or (
                _first_row(ARGUMENT_TABLES[argument], operation_id=operation_id) or {}
            ).get("id")
            values[argument] = row or 1
        if "org_id" in rule.arguments:
            values["org_id"] = known.get("organisation_id") or self._org(area, operation_id)
        if "number" in rule.arguments:
            convention = _first_row("conventions", operation_id=operation_id)
            version = convention and _last_version(convention["id"])
            values["number"] = version or 1
        if "key" in rule.arguments:
            key = known.get("key") or SectionKey.design_keys()[0].value
            values["key"] = SectionKey[key].value if key in SectionKey.__members__ else key
        if "token" in rule.arguments:
            values["token"] = self.tokens[rule.endpoint]
        if "name" in rule.arguments:
            values["name"], values["fmt"] = "operations", "csv"
        return values

    def _org(self, area: str, operation_id) -> int:
        if operation_id is None:
            return _first_row("organisations")["id"]
        if area == "conventions":
            convention = _first_row("conventions", operation_id=operation_id)
            signer = convention and _first_row("convention_signers", convention_id=convention["id"])
            if signer:
                return signer["organisation_id"]
        need = _first_row("employer_needs", operation_id=operation_id)
        return need["organisation_id"] if need else _first_row("organisations")["id"]

    # --- People -------------------------------------------------------------------------

    def people(self, area: str) -> list[tuple[int, int]]:
        """(user, organisation) pairs of the demo, those suited to ``area`` first."""
        order = FIRST_TRIED.get(area, []) + [
            p for p in EVERYONE if p not in FIRST_TRIED.get(area, [])
        ]
        with self.app.app_context():
            pairs = []
            for local in order:
                user = db.session.scalar(
                    select(User).where(User.email == f"{local}@demo.defi.test")
                )
                if user is None:
                    continue
                for membership in db.session.scalars(
                    select(Membership)
                    .where(Membership.user_id == user.id, Membership.active.is_(True))
                    .order_by(Membership.id)
                ):
                    pairs.append((user.id, membership.organisation_id))
        return pairs

    def client(self, person: tuple[int, int] | None):
        """A browser logged in as ``person`` acting for their organisation (None: anonymous)."""
        client = self.app.test_client()
        if person is None:
            return client
        login_as(client, person[0])
        with client.session_transaction() as sess:
            sess["org_id"] = person[1]
        return client

    def reach(self, rule):
        """The first person whose empty POST is neither « not found », « refused » nor sent
        to the login page, with the forms the view built; else the first person."""
        url = self.url(rule)
        tried = [None, *self.people(rule.endpoint.split(".")[0])]  # public routes: anonymous
        for person in tried:
            client = self.client(person)
            with captured_forms() as forms:
                response = client.post(url, headers=HTMX)
                if not forms and "GET" in rule.methods:  # a form chosen by a posted value
                    client.get(url).close()
            status = response.status_code
            response.close()
            self.restore()
            if status not in (403, 404) and not _to_login(response):
                return Target(url, person, form_fields(forms), status)
        return Target(url, tried[1], {}, status)


def _fill(rule, values) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = path.replace(
            next(part for part in _parts(path) if part.endswith(f"{argument}>")),
            str(values[argument]),
        )
    return path


def _parts(path: str) -> list[str]:
    return [path[i : path.index(">", i) + 1] for i in range(len(path)) if path[i] == "<"]


def _last_version(convention_id: int):
    table = _table("convention_versions")
    return db.session.scalar(
        select(table.c.number)
        .where(table.c.convention_id == convention_id)
        .order_by(table.c.number.desc())
    )


def _to_login(response) -> bool:
    return response.status_code in (302, 303) and response.headers.get("Location", "").startswith(
        "/connexion"
    )


class Target:
    """A route as the fuzz posts to it: URL, person, fields, status of the empty POST."""

    def __init__(self, url, person, fields, status):
        self.url, self.person, self.fields, self.status = url, person, fields, status


def check_answer(
    app, response, *, before, csrf: str, check: StoredTextCheck, endpoint: str = ""
) -> str:
    """No 500; a refusal (bad CSRF, 4xx, a form shown with errors) wrote nothing; what an
    acceptance wrote is clean. Returns the page."""
    status = response.status_code
    page = response.get_data().decode("utf-8", "replace")  # a zip or a document too
    response.close()
    assert status < 500, page[:2000]
    kept = REFUSAL_BOOKKEEPING | ({"audit_events"} if endpoint in AUDITED_REFUSALS else set())
    wrote = [
        write for write in snapshot(app).writes[before.count :] if write.split(":")[0] not in kept
    ]
    if csrf in ("missing", "forged", "other"):
        assert status == 400 and CSRF_REFUSED in page
        assert not wrote, f"refused for its CSRF token, yet it wrote: {wrote}"
    if status >= 400 or ERROR_SHOWN in page:
        assert not wrote, f"answered {status} (refused), yet it wrote: {wrote}"
    assert check.problems == [], check.problems
    return page


def post(client, url: str, body, *, csrf: str, htmx: bool, other_token: str, as_json=None):
    """POST ``body`` (or the JSON ``as_json``) with the CSRF token sent as ``csrf`` says."""
    headers = dict(HTMX) if htmx else {}
    if as_json is not None:
        if csrf in ("field", "other"):
            csrf = "forged"
        if csrf == "forged":
            headers["X-CSRFToken"] = "forged-token"
        return client.post(url, json=as_json, headers=headers, csrf=csrf == "header")
    data = request_body(body)
    if csrf == "field":
        data["csrf_token"] = client.csrf_token()
    elif csrf == "forged":
        headers["X-CSRFToken"] = "forged-token"
    elif csrf == "other":
        data["csrf_token"] = other_token
    response = client.post(url, data=data, headers=headers, csrf=csrf == "header")
    # The test client spools a body over 500 kB to a temporary file it never closes.
    response.request.environ["wsgi.input"].close()
    return response
