"""Comment threads of the design sections: the services (mentions notify the right people,
blocking comments hold the gate) and the routes (the block and its out-of-band badge for
htmx, 303 without JS, French errors with 422, outsiders 404, fixed query count)."""

import re

import pytest
from sqlalchemy import select

from portal.core.errors import RuleError
from portal.design.comments import add_comment, set_comment_resolved
from portal.design.models import CommentMention, DesignComment, SectionKey
from portal.design.queries import load_design
from portal.design.services import design_problems
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from tests.design.factories import base_url, section_of
from tests.factories import make_user
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
)
from tests.support import (
    HTMX,
    committed,
    count,
    count_queries,
    flashes,
    login_as,
    org_named,
    text,
    user_with,
)

BLOCKING_PROBLEM = "Un commentaire bloquant n'est pas résolu."


# --- Helpers ----------------------------------------------------------------------------


def comment(app, operation_id, body="Un avis", *, email=OF_A, org="Organisme A", **kwargs) -> int:
    """A thread (or a reply, with ``parent_id``) written through the service; its id."""
    with committed(app):
        section = section_of(operation_id, kwargs.pop("key", "objectives"))
        parent_id = kwargs.pop("parent_id", None)
        parent = db.session.get(DesignComment, parent_id) if parent_id else None
        created = add_comment(
            section, body, by=user_with(email), org=org_named(org), parent=parent, **kwargs
        )
        db.session.flush()
        return created.id


def mention_notes(app, email: str) -> int:
    with app.app_context():
        user_id = user_with(email).id
    return count(
        app, Notification, Notification.user_id == user_id, Notification.kind == "design_mention"
    )


# --- Services ----------------------------------------------------------------------------


def test_a_mentioned_person_is_notified_in_app_and_by_mail(app, design_op):
    with app.app_context():
        employer = user_with(EMPLOYER)
    comment(app, design_op, "Pouvez-vous relire ?", mention_users=[employer])
    assert mention_notes(app, EMPLOYER) == 1
    assert mention_notes(app, OF_A) == 0  # never the author
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.kind == "design_mention"))
        assert "Pouvez-vous relire ?" in note.message
        assert note.link.endswith(f"/operations/{design_op}/conception")
        subjects = db.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == EMPLOYER)
        ).all()
    assert any(s.startswith("Mention dans la co-conception") for s in subjects)


def test_a_mentioned_organisation_notifies_its_members_but_not_the_author(app, design_op):
    with committed(app):
        colleague = make_user(org_named("Organisme A"), email="a.colleague@example.fr")
        colleague_email = colleague.email
    with app.app_context():
        of_a = org_named("Organisme A")
    comment(app, design_op, "À l'OF de voir", mention_orgs=[of_a])
    assert mention_notes(app, colleague_email) == 1
    assert mention_notes(app, OF_A) == 0
    assert mention_notes(app, EMPLOYER) == 0
    with app.app_context():
        mention = db.session.scalar(select(CommentMention))
        assert (mention.organisation_id, mention.user_id) == (of_a.id, None)


def test_an_open_blocking_comment_holds_the_gate_until_resolved(app, design_op):
    thread_id = comment(app, design_op, "Heures à revoir", blocking=True)
    with app.test_request_context():
        assert BLOCKING_PROBLEM in design_problems(load_design(design_op))
    comment(app, design_op, "D'accord", parent_id=thread_id)
    with committed(app):
        thread = db.session.get(DesignComment, thread_id)
        set_comment_resolved(thread, True, by=user_with(OF_A), org=org_named("Organisme A"))
    with app.test_request_context():
        assert BLOCKING_PROBLEM not in design_problems(load_design(design_op))
    with committed(app):
        set_comment_resolved(
            db.session.get(DesignComment, thread_id),
            False,
            by=user_with(OF_A),
            org=org_named("Organisme A"),
        )
    with app.test_request_context():
        assert BLOCKING_PROBLEM in design_problems(load_design(design_op))


def test_only_author_carrier_or_region_resolve_a_blocking_comment(app, design_op):
    """Issue #11 L19: another participant cannot resolve someone's blocking comment (which
    would open the co-design gate); its author, the carrier OF and the Région can."""
    thread_id = comment(app, design_op, "Heures à revoir", email=EMPLOYER, org="Entreprise E")
    with committed(app):
        db.session.get(DesignComment, thread_id).blocking = True
    with app.test_request_context():
        thread = db.session.get(DesignComment, thread_id)
        partner, partner_org = user_with(PARTNER), org_named("Partenaire P")
        with pytest.raises(RuleError, match="commentaire bloquant"):
            set_comment_resolved(thread, True, by=partner, org=partner_org)
        assert thread.resolved_at is None
        for email, org in [
            (EMPLOYER, "Entreprise E"),
            (OF_A, "Organisme A"),
            (REFERENT, "Région Centre-Val de Loire"),
        ]:
            set_comment_resolved(thread, True, by=user_with(email), org=org_named(org))
            assert thread.resolved_at is not None
            # Anyone taking part may reopen it: that only closes the gate again.
            set_comment_resolved(thread, False, by=partner, org=partner_org)
        db.session.rollback()


def test_the_resolve_button_is_refused_and_hidden_for_another_participant(app, client, design_op):
    """Issue #11 L19: the route refuses (in French, no 500) and the button is not shown."""
    thread_id = comment(app, design_op, "Heures à revoir", blocking=True)
    login_as(client, EMPLOYER)
    page = text(client.get(base_url(design_op)))
    assert "Marquer comme résolu" not in page
    response = client.post(
        f"{base_url(design_op)}/objectives/commentaires/{thread_id}/resolution",
        data={"resolved": "1"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "commentaire bloquant" in text(response)
    with app.app_context():
        assert db.session.get(DesignComment, thread_id).resolved_at is None


def test_a_reply_is_never_blocking_and_is_not_resolved_alone(app, design_op):
    thread_id = comment(app, design_op)
    reply_id = comment(app, design_op, "Réponse", parent_id=thread_id, blocking=True)
    with app.test_request_context():
        reply = db.session.get(DesignComment, reply_id)
        assert reply.blocking is False
        assert design_problems(load_design(design_op)).count(BLOCKING_PROBLEM) == 0
        with pytest.raises(RuleError):
            set_comment_resolved(reply, True, by=user_with(OF_A), org=org_named("Organisme A"))


# --- Routes: commenting ------------------------------------------------------------------


def post_comment(client, operation_id, key="objectives", htmx=True, **fields):
    data = {f"comment-{key}-{name}": value for name, value in fields.items()}
    return client.post(
        f"{base_url(operation_id)}/{key}/commentaires", data=data, headers=HTMX if htmx else {}
    )


def test_comment_htmx_answers_the_block_and_the_badge_out_of_band(app, client, design_op):
    login_as(client, EMPLOYER)
    response = post_comment(client, design_op, body="Prévoir le CACES", blocking="y")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = text(response)
    assert "<html" not in page
    assert re.search(
        r'<div id="comments-objectives"[^>]*hx-target="this"[^>]*hx-swap="outerHTML"', page
    )
    badge = re.search(
        r'<span id="comment-count-objectives"[^>]*hx-swap-oob="true"[^>]*>(.*?)</span>', page, re.S
    )
    assert badge and badge.group(1).strip() == "1 commentaire ouvert, dont 1 bloquant"
    assert "Prévoir le CACES" in page
    assert "Commentaire publié." in page
    assert "Bloquant" in page  # in words, not by colour
    with app.app_context():
        thread = db.session.scalar(select(DesignComment))
        assert thread.blocking and thread.author.email == EMPLOYER
        assert thread.organisation.name == "Entreprise E"


def test_comment_without_js_redirects_to_the_block(app, client, design_op):
    login_as(client, OF_A)
    response = post_comment(client, design_op, htmx=False, body="Sans JavaScript")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/operations/{design_op}/conception#comments-objectives"
    )
    assert ("success", "Commentaire publié.") in flashes(client)
    assert count(app, DesignComment) == 1


def test_mentions_through_the_form_notify_people_and_organisations(app, client, design_op):
    with app.app_context():
        employer, region = user_with(EMPLOYER), org_named("Région Centre-Val de Loire")
        employer_id, region_id = employer.id, region.id
    login_as(client, OF_A)
    response = post_comment(
        client,
        design_op,
        body="Avis ?",
        mention_users=str(employer_id),
        mention_orgs=str(region_id),
    )
    assert response.status_code == 200
    page = text(response)
    assert "Mentionne :" in page and "Région Centre-Val de Loire" in page
    assert mention_notes(app, EMPLOYER) == 1
    assert mention_notes(app, REFERENT) == 1  # a member of the mentioned Région
    assert mention_notes(app, OF_A) == 0


def test_the_form_offers_only_participants_to_mention(app, client, design_op):
    login_as(client, OF_A)
    page = text(post_comment(client, design_op, body=""))
    options = re.search(r'name="comment-objectives-mention_users".*?</select>', page, re.S).group(0)
    assert "Entreprise E" in options  # an optgroup per organisation
    assert "b.admin" not in page
    orgs = re.search(r'name="comment-objectives-mention_orgs".*?</select>', page, re.S).group(0)
    assert "Organisme A" in orgs and "Entreprise E" in orgs
    assert "Organisme B" not in orgs and "Entreprise F" not in orgs


@pytest.mark.parametrize("outsider", [OF_B, EMPLOYER2, PARTNER])
def test_mentioning_a_non_participant_is_refused(app, client, design_op, outsider):
    with app.app_context():
        user = user_with(outsider)
        org_id = user.memberships[0].organisation_id
        user_id = user.id
    login_as(client, OF_A)
    for field, value in (("mention_users", user_id), ("mention_orgs", org_id)):
        response = post_comment(client, design_op, body="Avis", **{field: str(value)})
        assert response.status_code == 422
        assert "Seuls les participants de l'opération peuvent être mentionnés." in text(response)
    response = post_comment(client, design_op, body="Avis", mention_users="pas-un-nombre")
    assert response.status_code == 422
    assert "Seuls les participants" in text(response)
    assert count(app, DesignComment) == 0
    assert mention_notes(app, outsider) == 0


@pytest.mark.parametrize("htmx", [True, False])
def test_an_empty_comment_is_refused_in_french(app, client, design_op, htmx):
    login_as(client, OF_A)
    response = post_comment(client, design_op, htmx=htmx, body="   ")
    assert response.status_code == 422
    page = text(response)
    assert "Le commentaire est vide." in page
    assert 'aria-invalid="true"' in page
    assert ("<html" in page) is not htmx  # without JS: the comments page with the form
    assert count(app, DesignComment) == 0


# --- Routes: replies and resolution ------------------------------------------------------


def test_reply_appears_in_its_thread(app, client, design_op):
    thread_id = comment(app, design_op, "Question")
    login_as(client, EMPLOYER)
    url = f"{base_url(design_op)}/objectives/commentaires/{thread_id}/reponses"
    response = client.post(url, data={f"reply-{thread_id}-body": "Réponse de E"}, headers=HTMX)
    assert response.status_code == 200
    page = text(response)
    assert "Réponse publiée." in page
    replies = page.split(f'id="comment-{thread_id}"', 1)[1]
    assert "Réponse de E" in replies
    assert 'hx-swap-oob="true"' in page
    empty = client.post(url, data={f"reply-{thread_id}-body": ""}, headers=HTMX)
    assert empty.status_code == 422
    assert "Le commentaire est vide." in text(empty)
    with app.app_context():
        assert db.session.get(DesignComment, thread_id).replies[0].body == "Réponse de E"


def test_replying_to_a_reply_is_refused(app, client, design_op):
    thread_id = comment(app, design_op)
    reply_id = comment(app, design_op, "Réponse", parent_id=thread_id)
    login_as(client, OF_A)
    url = f"{base_url(design_op)}/objectives/commentaires/{reply_id}/reponses"
    response = client.post(url, data={f"reply-{reply_id}-body": "Encore"}, headers=HTMX)
    assert response.status_code == 422
    assert "On répond au premier commentaire d'un fil." in text(response)


def test_a_participant_resolves_and_reopens_their_own_thread(app, client, design_op):
    thread_id = comment(
        app, design_op, "Bloquant", email=EMPLOYER, org="Entreprise E", blocking=True
    )
    login_as(client, EMPLOYER)
    url = f"{base_url(design_op)}/objectives/commentaires/{thread_id}/resolution"
    response = client.post(url, data={"resolved": "1"}, headers=HTMX)
    assert response.status_code == 200
    page = text(response)
    assert "Fil résolu." in page and "Résolu le" in page
    assert re.search(r'hx-swap-oob="true"[^>]*>\s*aucun commentaire ouvert\s*</span>', page)
    assert 'name="resolved" value="0"' in page  # the button now reopens
    response = client.post(url, data={"resolved": "0"}, headers=HTMX)
    assert "Fil rouvert." in text(response)
    assert "1 commentaire ouvert, dont 1 bloquant" in text(response)
    assert client.post(url, data={"resolved": "2"}, headers=HTMX).status_code == 422
    no_js = client.post(url, data={"resolved": "1"})
    assert no_js.status_code == 303
    assert no_js.headers["Location"].endswith("#comments-objectives")
    with app.app_context():
        thread = db.session.get(DesignComment, thread_id)
        assert thread.resolved_at is not None and thread.resolved_by.email == EMPLOYER


def test_a_comment_of_another_section_is_not_found_here(app, client, design_op):
    thread_id = comment(app, design_op, key="public")
    login_as(client, OF_A)
    url = f"{base_url(design_op)}/objectives/commentaires/{thread_id}/resolution"
    assert client.post(url, data={"resolved": "1"}, headers=HTMX).status_code == 404
    assert post_comment(client, design_op, key="inconnue", body="x").status_code == 404


@pytest.mark.parametrize("outsider", [OF_B, EMPLOYER2, PARTNER])
def test_outsiders_get_404_on_every_comment_route(app, client, design_op, outsider):
    thread_id = comment(app, design_op)
    login_as(client, outsider)
    prefix = f"{base_url(design_op)}/objectives/commentaires"
    attempts = [
        (prefix, {"comment-objectives-body": "Intrus"}),
        (f"{prefix}/{thread_id}/reponses", {f"reply-{thread_id}-body": "Intrus"}),
        (f"{prefix}/{thread_id}/resolution", {"resolved": "1"}),
    ]
    for url, data in attempts:
        assert client.post(url, data=data, headers=HTMX).status_code == 404, url
    assert count(app, DesignComment) == 1
    with app.app_context():
        assert db.session.get(DesignComment, thread_id).resolved_at is None


def test_comment_routes_refuse_a_missing_csrf_token(app, client, design_op):
    thread_id = comment(app, design_op)
    login_as(client, OF_A)
    prefix = f"{base_url(design_op)}/objectives/commentaires"
    for url in (prefix, f"{prefix}/{thread_id}/reponses", f"{prefix}/{thread_id}/resolution"):
        response = client.post(url, data={"resolved": "1"}, csrf=False)
        assert response.status_code == 400, url
    assert count(app, DesignComment) == 1


# --- The design page and the query count -------------------------------------------------


def test_the_design_page_shows_each_section_comments_with_a_toolbar(app, client, design_op):
    comment(app, design_op, "Sur le public", key="public", blocking=True)
    login_as(client, EMPLOYER)
    page = text(client.get(base_url(design_op)))
    for key in SectionKey.design_keys():
        assert f'id="comments-{key.value}"' in page
    assert "Sur le public" in page
    assert f'href="/operations/{design_op}/conception/fiche.docx"' in page


def add_threads(app, operation_id: int, n: int) -> None:
    """``n`` threads with a reply and a mention each, by two organisations."""
    with committed(app):
        section = section_of(operation_id)
        employer, of_a = user_with(EMPLOYER), user_with(OF_A)
        employer_org, org_a = org_named("Entreprise E"), org_named("Organisme A")
        for i in range(n):
            thread = add_comment(
                section,
                f"Fil {i}",
                by=of_a,
                org=org_a,
                mention_users=[employer],
                blocking=bool(i % 2),
            )
            add_comment(section, f"Réponse {i}", by=employer, org=employer_org, parent=thread)
            if i % 3 == 0:
                set_comment_resolved(thread, True, by=of_a, org=org_a)


def test_comment_block_queries_do_not_grow_with_threads(app, client, design_op):
    add_threads(app, design_op, 2)
    login_as(client, OF_A)
    post_comment(client, design_op, body="Échauffement")  # warm-up

    def measured(body):
        with count_queries(app) as statements:
            response = post_comment(client, design_op, body=body)
        assert response.status_code == 200
        return list(statements)

    small = measured("Avec peu de fils")
    add_threads(app, design_op, 18)
    large = measured("Avec beaucoup de fils")
    assert len(small) == len(large), (len(small), len(large))
    page = text(post_comment(client, design_op, body="Encore"))
    assert "Fil 17" in page and "Réponse 17" in page


def test_design_page_queries_do_not_grow_with_threads(app, client, design_op):
    """The comments rendered on the design page read names from what is loaded once."""
    add_threads(app, design_op, 2)
    login_as(client, OF_A)
    client.get(base_url(design_op))
    with count_queries(app) as small:
        assert client.get(base_url(design_op)).status_code == 200
    add_threads(app, design_op, 18)
    with count_queries(app) as large:
        assert client.get(base_url(design_op)).status_code == 200
    assert len(small) == len(large), (len(small), len(large))
