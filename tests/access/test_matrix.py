"""The access matrix of the whole portal: every route of ``app.url_map`` × the ten roles of
the demo × objects of two operations, answered as ``tests/access/expected.csv`` says.

The table is the reviewed statement of who may do what. It was written from the domain
(shared DOMAIN.md, the demo's story in portal/demo/), not read from the code: one row per
endpoint and method, one column per role, each cell the class of answer expected:

- ``ok``     the role gets in: a page, a file, a redirect after acting (2xx or 3xx);
- ``403``    the role sees the object but may not do this;
- ``404``    the object is hidden from the role (an operation it takes no part in);
- ``login``  the visitor is sent to the login page (anonymous).

The roles, each a demo account (``ROLES``), stand in relation to the Saran session, the
Orléans operation in training carried by Forma'Centre Loiret: the Région's admin, the
referent of another bassin (Tours), the organisme porteur, another organisme (Touraine
Compétences), the participating employer (Transports et Logistique du Loiret, whose objects
the URLs name: its need, its positions, its immersion, its promise, its signer, its member),
another employer of the operation (Boulangeries du Val de Loire), the employer's tutor (the
immersion's), the partner prescriber (France Travail, who oriented the trainee) and another
partner (Mission locale), and an anonymous visitor. The follow-up pages are read on the
session of Ingré, the assessment and the archive on Fleury's (closed): same parties.

The second operation is the Tours one (Agent·e de propreté), which none of the Orléans
parties takes part in: each of them gets 404 on every route of it, and so does the Région's
admin when the URL names, under it, an object of Saran (an id of another operation). The
referent of Tours and Touraine Compétences are the outsiders of Saran (their column says 404).

Every cell whose expected class is not ``ok``, and every GET, is requested (POST with a valid
CSRF token and a plausible body); the database must be unchanged after each. The ``ok`` POST
cells are sent last, with no field but the CSRF token: the role must get in (the empty form's
or a rule's refusal comes after the access check), and where the POST acted the demo is
loaded anew. The test fails naming the cell on any mismatch, and when a route is missing
from the table or the table names a route that no longer exists.

Reviewing or updating the table: a new route fails ``test_the_table_covers_every_route``;
add its row(s) with the answer each role should get by the domain's rules — never by
running the code and copying what it answers — and have the change reviewed like code. A
cell that turns out wrong is changed with a commit saying which rule makes it so.
"""

import csv
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import User
from portal.conventions import pdf
from portal.extensions import db
from tests.support import (
    all_rows,
    app_config,
    empty_database,
    live_token_links,
    load_demo_copy,
    login_as,
    put_back_rows,
    snapshot,
)

TABLE = Path(__file__).with_name("expected.csv")
DOMAIN = "demo.defi.test"
# The ten roles of the matrix and the demo account playing each (None: anonymous).
ROLES = {
    "region": "region",
    "referent_other": "referente.tours",
    "of_carrier": "of",
    "of_other": "of2",
    "employer": "employeur",
    "employer_other": "boulangerie",
    "tutor": "tuteur",
    "prescriber": "partenaire",
    "partner_other": "mission.locale",
    "anonymous": None,
}
# The roles that take part in the Tours operation (its outsiders get 404 on all of it).
IN_TOURS = {"region", "referent_other", "of_other"}
SARAN = "Préparateur·rice de commandes — session de Saran"
INGRE = "Préparateur·rice de commandes — session d'Ingré"
FLEURY = "Préparateur·rice de commandes — session de Fleury"
TOURS = "Agent·e de propreté et d'hygiène"
PLAUSIBLE_FORM = {
    "comment": "Intrusion",
    "reason": "Intrusion",
    "title": "Titre intrus",
    "name": "Organisation intruse",
    "email": "intrus@example.fr",
    "first_name": "Intrus",
    "last_name": "Intrus",
    "body": "Intrusion",
    "verdict": "favourable",
    "status": "retained",
    "decision": "accepted",
    "role": "opco",
    "job_title": "Poste intrus",
    "count": "3",
    "contract_type": "cdi",
    "label": "Chiffre intrus",
    "value": "42",
    "answer": "Intrusion",
}
URL_ARGUMENT = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
METHODS = ("GET", "POST")
RULES = sorted(
    create_app(app_config("sqlite://")).url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)
)


def read_table() -> dict[tuple[str, str], dict[str, str]]:
    """The expected classes, by (endpoint, method), then role."""
    with TABLE.open(newline="", encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    expected = {}
    for row in rows:
        key = (row.pop("endpoint"), row.pop("method"))
        assert key not in expected, f"{key} twice in {TABLE.name}"
        assert set(row) == set(ROLES), f"{key}: columns {sorted(row)}"
        assert set(row.values()) <= {"ok", "403", "404", "login"}, f"{key}: {row}"
        expected[key] = row
    return expected


EXPECTED = read_table()


def _methods(rule) -> list[str]:
    return [method for method in METHODS if method in rule.methods]


# --- The demo's objects --------------------------------------------------------------------


@dataclass
class Objects:
    """Ids naming, in the URLs, the objects of the matrix (see the module's docstring)."""

    operations: dict  # title -> id
    values: dict  # URL argument -> id in Saran (or Ingré, Fleury)
    tokens: dict  # endpoint -> a live token


def _one(table_name: str, column: str = "id", *where):
    table = db.metadata.tables[table_name]
    query = select(table.c[column]).where(*(w(table.c) for w in where)).order_by(table.c.id)
    value = db.session.scalar(query.limit(1))
    assert value is not None, f"no {table_name} row for the matrix"
    return value


def _objects() -> Objects:
    """Find the objects of the matrix in the demo (run inside an app context)."""

    def org(name):
        return _one("organisations", "id", lambda c: c.name == name)

    def user(account):
        return _one("users", "id", lambda c: c.email == f"{account}@{DOMAIN}")

    operations = {
        title: _one("operations", "id", lambda c, t=title: c.title == t)
        for title in (SARAN, INGRE, FLEURY, TOURS)
    }
    saran, ingre = operations[SARAN], operations[INGRE]
    logistics = org("Transports et Logistique du Loiret")
    france_travail = org("France Travail — agence Orléans Est")
    tutor = user("tuteur")
    # The trainee oriented by France Travail, in immersion at the employer with its tutor.
    immersion = _one(
        "immersions",
        "id",
        lambda c: c.operation_id == saran,
        lambda c: c.employer_id == logistics,
        lambda c: c.tutor_id == tutor,
    )
    trainee = _one("immersions", "trainee_id", lambda c: c.id == immersion)
    debrief = _one("debrief_trainees", "debrief_id", lambda c: c.trainee_id == trainee)
    followed = _one(
        "trainees",
        "id",
        lambda c: c.operation_id == ingre,
        lambda c: c.prescriber_id == france_travail,
        lambda c: c.promise_id.is_not(None),
    )
    promise = _one("trainees", "promise_id", lambda c: c.id == followed)
    need = _one(
        "employer_needs",
        "id",
        lambda c: c.operation_id == saran,
        lambda c: c.organisation_id == logistics,
    )
    design = _one("designs", "id", lambda c: c.operation_id == saran)
    sections = db.metadata.tables["design_sections"]
    of_the_design = select(sections.c.id).where(sections.c.design_id == design)
    # The section with the first comment of the co-design (the demo's « modules »).
    comment = _one("design_comments", "id", lambda c: c.section_id.in_(of_the_design))
    section = _one("design_comments", "section_id", lambda c: c.id == comment)
    committee = _one("steering_committees", "id", lambda c: c.operation_id == saran)
    meeting = _one("steering_meetings", "id", lambda c: c.committee_id == committee)
    membership = _one(
        "memberships",
        "id",
        lambda c: c.organisation_id == logistics,
        lambda c: c.user_id == tutor,
    )
    region_admin = user("region")
    values = {
        "operation_id": saran,
        "org_id": logistics,
        "position_id": _one("need_positions", "id", lambda c: c.need_id == need),
        "figure_id": _one(
            "diagnosis_figures",
            "id",
            lambda c: (
                c.analysis_id == _one("needs_analyses", "id", lambda n: n.operation_id == saran)
            ),
        ),
        "participant_id": _one(
            "operation_participants",
            "id",
            lambda c: c.operation_id == saran,
            lambda c: c.organisation_id == logistics,
        ),
        "key": _one("design_sections", "key", lambda c: c.id == section),
        "revision_id": _one("section_revisions", "id", lambda c: c.section_id == section),
        "draft_id": _one("section_revisions", "id", lambda c: c.section_id == section),
        "comment_id": comment,
        "number": 1,
        "meeting_id": meeting,
        "member_id": _one(
            "steering_members",
            "id",
            lambda c: c.committee_id == committee,
            lambda c: c.organisation_id == logistics,
        ),
        "decision_id": _one("steering_decisions", "id", lambda c: c.meeting_id == meeting),
        "action_id": _one("steering_actions", "id", lambda c: c.meeting_id == meeting),
        "immersion_id": immersion,
        "trainee_id": trainee,
        "debrief_id": debrief,
        "evaluation_id": _one("evaluations", "id", lambda c: c.operation_id == saran),
        "session_id": _one("recruitment_sessions", "id", lambda c: c.operation_id == saran),
        # The follow-up of Ingré: the trainee oriented by France Travail, the employer's promise.
        "followed_trainee_id": followed,
        "promise_id": promise,
        "milestone_id": _one("followup_milestones", "id", lambda c: c.trainee_id == followed),
        # Objects of Transports et Logistique du Loiret's members page.
        "membership_id": membership,
        "invitation_id": _one("invitations", "id", lambda c: c.organisation_id == logistics),
        # Objects of the Région's admin: a notification, an export request, a session.
        "notification_id": _one("notifications", "id", lambda c: c.user_id == region_admin),
        "job_id": _one("export_jobs", "id", lambda c: c.user_id == region_admin),
        "user_id": tutor,
        "territory_id": _one("territories", "id", lambda c: c.code == "ORL"),
        "template_id": _one("clause_templates"),
        "lot_id": _one("market_lots"),
        "document_id": _one("reference_documents"),
        "name": "operations",
        "fmt": "xlsx",
        "filename": "css/app.css",
    }
    # The Région's admin invited someone, asked for a reset link and to change its address.
    tokens = live_token_links(db.session.get(User, region_admin))
    return Objects(operations=operations, values=values, tokens=tokens)


# --- The walk ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_database():
    """The demo is loaded once for the module by ``world`` and emptied at its end; every
    request of the module is refused or only reads, which each cell's snapshot proves."""
    yield


@dataclass
class World:
    objects: Objects
    clients: dict  # role -> test client, logged in as the role's account (or anonymous)
    rows: dict | None = None  # every row once all roles are logged in (``all_rows``)
    sessions: dict | None = None  # role -> its client's session then

    def reset(self, app) -> None:
        """The demo as loaded, its objects found, every role logged in anew (after an allowed
        POST changed the data, or ended the role's session).

        The first time for real; after that the rows and the clients' sessions of the first
        time are put back (same ids, same « Mes sessions » rows), a third of the cost: the
        allowed-POST walk resets about ninety times."""
        if self.rows is not None:
            put_back_rows(app, self.rows)
            for role, saved in self.sessions.items():
                with self.clients[role].session_transaction() as sess:
                    sess.clear()
                    sess.update(saved)
                    if "auth_at" in sess:  # as just logged in (re-authentication)
                        sess["auth_at"] = time.time()
            return
        load_demo_copy(app)
        with app.test_request_context(base_url="http://portail.test"):
            self.objects = _objects()
        for role, account in ROLES.items():
            self.clients[role] = app.test_client()
            if account is not None:
                login_as(self.clients[role], f"{account}@{DOMAIN}")
        with app.app_context():
            sessions = db.metadata.tables["user_sessions"]
            region_admin = _one("users", "id", lambda c: c.email == f"region@{DOMAIN}")
            self.objects.values["user_session_id"] = db.session.scalar(
                select(sessions.c.id)
                .where(sessions.c.user_id == region_admin)
                .order_by(sessions.c.id.desc())
            )
        self.rows = all_rows(app)
        self.sessions = {}
        for role, client in self.clients.items():
            with client.session_transaction() as sess:
                self.sessions[role] = dict(sess)


@pytest.fixture(scope="module")
def world(app) -> World:
    """The demo, its objects, and one client per role, for the whole module.

    LibreOffice is stood in for by a fixed PDF: the PDF routes check access before
    converting, and a conversion per role (the bilan differs by reader) cost seconds each;
    tests/conventions/test_pdf.py converts for real."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf, "docx_to_pdf", lambda _docx: b"%PDF-1.4 matrice")
        world = World(objects=None, clients={})
        world.reset(app)
        yield world
    empty_database(app)


def url(rule, objects: Objects, operation: str | None = None) -> str:
    """The rule's path on the matrix's objects; ``operation`` puts another operation's id."""
    blueprint = rule.endpoint.split(".")[0]

    def value(match):
        name = match.group(1)
        if name == "token":
            return objects.tokens[rule.endpoint]
        if name == "operation_id":
            if operation is not None:
                return str(objects.operations[operation])
            title = {"followup": INGRE, "assessment": FLEURY, "archive": FLEURY}.get(
                blueprint, SARAN
            )
            return str(objects.operations[title])
        if blueprint == "followup" and name == "trainee_id":
            name = "followed_trainee_id"
        return str(objects.values[name])

    path = URL_ARGUMENT.sub(value, rule.rule)
    if rule.endpoint in QUERY:
        path += f"?{QUERY[rule.endpoint]}={objects.values['trainee_id']}"
    return path


def answer_class(response) -> str:
    """The class of an answer, as the table writes it."""
    status = response.status_code
    if status in (301, 302, 303) and response.headers["Location"].startswith("/connexion"):
        return "login"
    if status < 400:
        return "ok"
    return str(status)


def send(client, method: str, path: str) -> str:
    if method == "GET":
        with client.get(path) as response:  # closes a file sent (static, downloads)
            return answer_class(response)
    with client.post(path, data=PLAUSIBLE_FORM) as response:
        return answer_class(response)


# Pages that name their object in the query string: the trainee.
QUERY = {"immersions.create_immersion": "stagiaire"}
OPERATION_RULES = [rule for rule in RULES if "operation_id" in rule.arguments]
# Arguments that name no object of an operation (the section key, the version number).
NOT_OBJECTS = {"operation_id", "key", "number"}


def test_the_table_covers_every_route():
    routes = {(rule.endpoint, method) for rule in RULES for method in _methods(rule)}
    assert sorted(routes - set(EXPECTED)) == [], "routes missing from expected.csv"
    assert sorted(set(EXPECTED) - routes) == [], "rows of expected.csv for no route"


def test_every_role_is_refused_somewhere_and_allowed_somewhere():
    """Guards the table against a column left all ``ok`` or all refused by mistake."""
    for role in ROLES:
        column = {cells[role] for cells in EXPECTED.values()}
        assert "ok" in column, role
        if role != "region":
            assert column - {"ok"}, role


def walk(app, client, role: str, cells) -> list[str]:
    """Send each cell ``(rule, method, path, expected classes)`` as ``role``; the cells
    answered otherwise, and those after which the database changed."""
    wrong = []
    before = snapshot(app)
    for rule, method, path, expected in cells:
        got = send(client, method, path)
        if got not in expected:
            wrong.append(f"{rule.endpoint} {method} {path} as {role}: {got}, expected {expected}")
        if snapshot(app) != before:
            wrong.append(f"{rule.endpoint} {method} {path} as {role} changed the database")
            before = snapshot(app)
    return wrong


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_gets_what_the_table_says(app, world, role):
    cells = (
        (rule, method, url(rule, world.objects), {EXPECTED[(rule.endpoint, method)][role]})
        for rule in RULES
        for method in _methods(rule)
        # An allowed POST would act (see the module's docstring).
        if not (method == "POST" and EXPECTED[(rule.endpoint, method)][role] == "ok")
    )
    wrong = walk(app, world.clients[role], role, cells)
    assert not wrong, "\n" + "\n".join(wrong)


def _hidden(role: str, rule, method: str) -> set[str]:
    """What ``role`` gets on the Tours operation: 404 (login when anonymous); the Région's
    admin also 403 where the table refuses it the route whatever the object (refused before
    the object is looked for, which tells nothing of whether it exists)."""
    if role == "anonymous":
        return {"login"}
    if role == "region" and EXPECTED[(rule.endpoint, method)][role] == "403":
        return {"404", "403"}
    return {"404"}


@pytest.mark.parametrize("role", [role for role in ROLES if role not in IN_TOURS - {"region"}])
def test_the_operation_a_role_takes_no_part_in_is_hidden(app, world, role):
    """On the Tours operation, each Orléans party gets 404 everywhere; the Région's admin
    gets 404 where the URL names, under Tours, an object of Saran (the referent of Tours and
    Touraine Compétences take part in it: Saran is their hidden operation, in the table)."""
    cells = (
        (rule, method, url(rule, world.objects, operation=TOURS), _hidden(role, rule, method))
        for rule in OPERATION_RULES
        if role != "region" or set(rule.arguments) - NOT_OBJECTS
        for method in _methods(rule)
    )
    wrong = walk(app, world.clients[role], role, cells)
    assert not wrong, "\n" + "\n".join(wrong)


# After the access check, an empty form is refused by the form (422), the rules (409), or,
# missing the hidden field a button always sends (the step, the version read), as a bad
# request (400; the CSRF token is valid, so it is not the CSRF check's).
GOT_IN = {"ok", "400", "409", "422"}
# Allowed POSTs whose object is named in the body (the dual membership decided): without
# it, the object is not found.
OBJECT_IN_THE_BODY = {"operations.decide_dual_membership"}
# Allowed POSTs that end the role's own session (its client logs in anew after them).
ENDS_THE_SESSION = {"accounts.logout", "accounts.end_session"}


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_gets_in_where_the_table_allows_a_post(app, world, role):
    """The ``ok`` POST cells, sent with no field but the CSRF token: the role gets in (a
    page, a redirect, or the refusal of the empty form or of a rule, which come after the
    access check). Where the POST acted, the demo is loaded anew before the next cell."""
    wrong = []
    for rule in RULES:
        if "POST" not in rule.methods or EXPECTED[(rule.endpoint, "POST")][role] != "ok":
            continue
        before = snapshot(app)
        path = url(rule, world.objects)
        with world.clients[role].post(path) as response:
            got = answer_class(response)
        accepted = GOT_IN | ({"login"} if rule.endpoint in ENDS_THE_SESSION else set())
        if got not in accepted | ({"404"} if rule.endpoint in OBJECT_IN_THE_BODY else set()):
            wrong.append(f"{rule.endpoint} POST {path} as {role}: {got}, expected {GOT_IN}")
        if snapshot(app) != before or rule.endpoint in ENDS_THE_SESSION:
            world.reset(app)
    assert not wrong, "\n" + "\n".join(wrong)
