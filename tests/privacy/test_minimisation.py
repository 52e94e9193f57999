"""Data minimisation (issue #17): nothing personal in URLs, e-mail subjects or logs.

- URLs: every route argument is an id (an int), or one of the few named strings below,
  none of which names a person; the download names of the trainee exports are ids.
- E-mail subjects: the demo's whole outbox (every kind of message the demo sends) names
  no trainee and no person's address.
- Logs: a session of a carrier opening, exporting and correcting a trainee, and the
  retention command's listing, write no trainee's name or address to any log record.
"""

import logging

from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.accounts.models import User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.recruitment.models import Trainee
from tests.support import load_demo_copy, login_as

# String arguments allowed in URLs: none holds personal data.
STRING_ARGUMENTS = {
    "token",  # a random link token (the access log redacts it: portal/gunicorn_logging.py)
    "filename",  # a static file
    "key",  # a section of the co-design
    "kind",
    "fmt",
    "export",
    "period_id",
    "skill_id",
    "name",  # reporting.queue_export: an export's name in the catalogue
}
PERSONAL_WORDS = ("email", "first_name", "last_name", "phone", "birth", "address")


def test_route_arguments_are_ids_not_personal_data(app):
    strings = set()
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            assert not any(word in name for word in PERSONAL_WORDS), (rule.rule, name)
            if not isinstance(converter, IntegerConverter):
                strings.add((rule.endpoint, name))
    unexpected = sorted(s for s in strings if s[1] not in STRING_ARGUMENTS)
    assert not unexpected, f"string URL arguments to review for personal data: {unexpected}"


def _people(app) -> tuple[list[str], list[str]]:
    with app.app_context():
        trainees = db.session.scalars(select(Trainee)).all()
        names = [t.full_name for t in trainees] + [
            t.last_name for t in trainees if len(t.last_name) > 6
        ]
        emails = [t.email for t in trainees if t.email]
        emails += db.session.scalars(select(User.email)).all()
    return names, emails


def test_email_subjects_name_no_trainee_and_no_address(app):
    load_demo_copy(app)
    names, emails = _people(app)
    with app.app_context():
        subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert len(subjects) > 20  # the demo sends many kinds of messages
    leaks = [(s, w) for s in subjects for w in names + emails if w.casefold() in s.casefold()]
    assert not leaks


def test_logs_hold_no_trainee_data(app, client, caplog):
    load_demo_copy(app)
    with app.app_context():
        trainee = db.session.scalars(
            select(Trainee).where(Trainee.email != "").order_by(Trainee.id)
        ).first()
        ids = (trainee.operation_id, trainee.id)
        secrets = (trainee.full_name, trainee.email, trainee.last_name)
        carrier = trainee.operation.provider.memberships[0].user.email
    base = f"/operations/{ids[0]}/recrutement/stagiaires/{ids[1]}"
    caplog.set_level(logging.DEBUG)
    login_as(client, carrier)
    for path in ("", "/donnees-personnelles", "/donnees-personnelles/export.json"):
        assert client.get(base + path).status_code == 200, path
    client.post(f"{base}/modification", data={"last_name": "", "email": "pas-une-adresse"})
    result = app.test_cli_runner().invoke(args=["retention", "apply", "--dry-run"])
    assert result.exit_code == 0, result.output
    logged = "\n".join(r.getMessage() for r in caplog.records) + result.output
    assert not [s for s in secrets if s in logged]
