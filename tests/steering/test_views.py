"""The steering committee over HTTP: who reads and who acts (404 outside the operation,
403 inside it), htmx fragments, form errors, the minutes through the design routes, the
downloads, and a constant number of queries on the committee page."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.design.models import DesignComment
from portal.extensions import db
from portal.steering import minutes, services
from portal.steering.models import SteeringAction, SteeringDecision, SteeringMeeting
from tests.operations.factories import EMPLOYER, OF_A, REFERENT, REGION_ADMIN
from tests.steering.factories import EMPLOYER_MEMBER, OUTSIDER, Committee, meeting_data
from tests.support import HTMX, committed, count, explain, login_as, queries, text

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def build(app, *, held=False, ready=False, upcoming=0) -> SimpleNamespace:
    with committed(app):
        world = Committee()
        meeting = world.ready() if ready else world.held() if held else world.convene()
        for days in range(upcoming):
            world.convene(days=10 + days)
        ids = SimpleNamespace(
            operation=world.operation.id,
            meeting=meeting.id,
            employer=world.market.employer.id,
            employer_member=world.employer_member.id,
            members={m.organisation_id: m.id for m in meeting.committee.active_members()},
        )
    ids.base = f"/operations/{ids.operation}/comite"
    ids.meeting_url = f"{ids.base}/reunions/{ids.meeting}"
    return ids


def meeting(app, site) -> SteeringMeeting:
    with app.app_context():
        row = db.session.get(SteeringMeeting, site.meeting)
        db.session.expunge(row)
        return row


# --- Reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [REGION_ADMIN, REFERENT, OF_A, EMPLOYER, EMPLOYER_MEMBER])
def test_participants_read_the_committee_and_its_meeting(app, client, who):
    site = build(app)
    login_as(client, who)
    assert "Comité de lancement" in text(client.get(site.base))
    page = text(client.get(site.meeting_url))
    assert "Salle du conseil, Tours" in page
    assert "Les présences, le compte rendu" in page  # not held yet


def test_outsiders_get_404_everywhere(app, client):
    site = build(app, ready=True)
    login_as(client, OUTSIDER)
    for path in (site.base, site.meeting_url, f"{site.meeting_url}/invitation.ics"):
        assert client.get(path).status_code == 404
    for path in (
        f"{site.base}/membres",
        f"{site.meeting_url}/presences",
        f"{site.meeting_url}/approbation",
    ):
        assert client.post(path, data={"member": "1"}).status_code == 404


def test_a_meeting_that_is_not_the_operations_is_404(app, client):
    site = build(app)
    login_as(client, REGION_ADMIN)
    assert client.get(f"{site.base}/reunions/{site.meeting + 999}").status_code == 404
    assert (
        client.get(f"/operations/{site.operation}/conception/minutes-{site.meeting}").status_code
        == 404
    )


def test_the_region_convenes_others_may_not(app, client):
    site = build(app)
    login_as(client, OF_A)
    assert client.get(f"{site.base}/reunions/nouvelle").status_code == 403
    login_as(client, REFERENT)
    page = client.post(f"{site.base}/reunions/nouvelle", data={"title": ""})
    assert page.status_code == 422
    assert "Donnez un titre à la réunion." in text(page)
    form = {
        "title": "Comité de mi-parcours",
        "starts_at": "2031-03-04T09:30",
        "ends_at": "11:30",
        "place": "",
        "video_url": "https://visio.example.fr/mi-parcours",
        "agenda": "Bilan des immersions",
    }
    response = client.post(f"{site.base}/reunions/nouvelle", data=form)
    assert response.status_code == 303
    with app.app_context():
        created = db.session.scalar(
            select(SteeringMeeting).where(SteeringMeeting.title == "Comité de mi-parcours")
        )
        assert created.starts_at.strftime("%H:%M") == "08:30"  # 09:30 in Paris, in winter
    assert "Comité de mi-parcours" in text(client.get(response.headers["Location"]))


def test_the_region_changes_then_cancels_a_meeting_to_come(app, client):
    site = build(app)
    login_as(client, REFERENT)
    assert client.get(f"{site.meeting_url}/modification").status_code == 200
    form = {
        "title": "Comité de lancement",
        "starts_at": "2031-06-04T14:00",
        "ends_at": "16:00",
        "place": "Hôtel de Région",
        "video_url": "",
        "agenda": "",
    }
    assert client.post(f"{site.meeting_url}/modification", data=form).status_code == 303
    assert meeting(app, site).sequence == 1
    assert (
        client.post(f"{site.meeting_url}/annulation", data={"reason": "Grève."}).status_code == 303
    )
    cancelled = meeting(app, site)
    assert cancelled.is_cancelled and cancelled.sequence == 2
    # Once cancelled, the edit page sends back to the meeting.
    assert client.get(f"{site.meeting_url}/modification").status_code == 303


def test_members_widget_answers_htmx(app, client):
    site = build(app)
    login_as(client, REFERENT)
    response = client.post(
        f"{site.base}/membres",
        data={"member": f"{site.employer}:{site.employer_member}"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith('<section id="steering-members"')
    assert "Eva Martin (Entreprise E)" in body
    again = client.post(
        f"{site.base}/membres",
        data={"member": f"{site.employer}:{site.employer_member}"},
        headers=HTMX,
    )
    assert again.status_code == 422 and "Déjà membre du comité." in text(again)
    login_as(client, EMPLOYER)
    assert (
        client.post(f"{site.base}/membres", data={"member": str(site.employer)}).status_code == 403
    )


def test_attendance_is_recorded_by_those_who_steer(app, client):
    site = build(app, held=True)
    field = f"presence-{site.members[site.employer]}"
    login_as(client, EMPLOYER)
    assert client.post(f"{site.meeting_url}/presences", data={field: "present"}).status_code == 403
    login_as(client, OF_A)
    response = client.post(f"{site.meeting_url}/presences", data={field: "excused"}, headers=HTMX)
    assert response.status_code == 200
    assert "Présences enregistrées." in text(response)
    assert text(response).lstrip().startswith('<section id="steering-attendance"')
    bad = client.post(f"{site.meeting_url}/presences", data={field: "peut-être"}, headers=HTMX)
    assert bad.status_code == 422


def test_the_minutes_are_edited_through_the_design_routes(app, client):
    site = build(app, held=True)
    login_as(client, OF_A)
    assert client.post(f"{site.meeting_url}/compte-rendu").status_code == 303
    slug = f"minutes-{site.meeting}"
    design = f"/operations/{site.operation}/conception/{slug}"
    form = client.get(f"{design}/modification", headers=HTMX)
    assert form.status_code == 200 and f'id="section-{slug}"' in text(form)
    saved = client.post(
        design, data={f"{'minutes'}-text": "Tout va bien.", "base_version": "1"}, headers=HTMX
    )
    assert saved.status_code == 200, text(saved)
    assert "Section enregistrée." in text(saved)
    # Without JS, the design routes answer the meeting page.
    page = client.get(f"{design}/modification")
    assert page.status_code == 200 and "Présences" in text(page)
    login_as(client, EMPLOYER)
    assert client.get(f"{design}/modification", headers=HTMX).status_code == 403
    comment = client.post(
        f"{design}/commentaires",
        data={f"comment-{slug}-body": "Ajoutez les chiffres.", f"comment-{slug}-blocking": "y"},
        headers=HTMX,
    )
    assert comment.status_code == 200
    assert count(app, DesignComment) == 1
    assert client.get(f"{design}/historique").status_code == 200
    assert "Tout va bien." in text(client.get(site.meeting_url))


def test_the_carrier_approves_the_minutes(app, client):
    site = build(app, ready=True)
    with app.app_context():
        version = minutes.minutes_section(db.session.get(SteeringMeeting, site.meeting)).version
    login_as(client, REFERENT)
    assert (
        client.post(f"{site.meeting_url}/approbation", data={"version": version}).status_code == 403
    )
    login_as(client, OF_A)
    response = client.post(f"{site.meeting_url}/approbation", data={"version": version - 1})
    assert response.status_code == 303 and not meeting(app, site).minutes_approved
    response = client.post(f"{site.meeting_url}/approbation", data={"version": version})
    assert response.status_code == 303 and meeting(app, site).minutes_approved
    assert "Approuvé par l'organisme porteur" in text(client.get(site.meeting_url))


def test_decisions_and_actions_then_the_owner_marks_it_done_from_home(app, client):
    site = build(app, held=True)
    login_as(client, REFERENT)
    response = client.post(f"{site.meeting_url}/decisions", data={"text": ""}, headers=HTMX)
    assert response.status_code == 422 and "Rédigez la décision." in text(response)
    response = client.post(
        f"{site.meeting_url}/decisions", data={"text": "Rythme validé."}, headers=HTMX
    )
    assert response.status_code == 200 and "Rythme validé." in text(response)
    data = {
        "title": "Envoyer les fiches de poste",
        "owner": str(site.employer),
        "due_on": str(date.today() + timedelta(days=10)),
    }
    response = client.post(f"{site.meeting_url}/actions", data=data, headers=HTMX)
    assert response.status_code == 200 and "Envoyer les fiches de poste" in text(response)
    with app.app_context():
        action_id = db.session.scalar(select(SteeringAction.id))
        decision_id = db.session.scalar(select(SteeringDecision.id))
    login_as(client, EMPLOYER)
    home = text(client.get("/"))
    assert "Envoyer les fiches de poste" in home and 'id="steering-home"' in home
    assert "Envoyer les fiches de poste" in text(client.get(f"/operations/{site.operation}"))
    assert (
        client.post(f"{site.meeting_url}/decisions/{decision_id}/retrait", headers=HTMX).status_code
        == 403
    )
    done = client.post(
        f"{site.base}/actions/{action_id}/faite",
        headers={**HTMX, "HX-Target": "steering-home"},
    )
    assert done.status_code == 200
    assert "Action marquée comme faite." in text(done)
    assert "Envoyer les fiches de poste" not in text(done)
    again = client.post(f"{site.base}/actions/{action_id}/faite", headers=HTMX)
    assert again.status_code == 422 and "déjà faite" in text(again)


def test_downloads(app, client):
    site = build(app, ready=True)
    login_as(client, EMPLOYER)
    docx = client.get(f"{site.meeting_url}/compte-rendu.docx")
    assert docx.status_code == 200 and docx.mimetype == DOCX
    ics = client.get(f"{site.meeting_url}/invitation.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert b"METHOD:PUBLISH" in ics.data


def test_the_committee_page_costs_the_same_queries_with_more_meetings(app, client):
    site = build(app, upcoming=1)
    login_as(client, REFERENT)
    small = queries(app, client, site.base)
    with committed(app):
        meeting = db.session.get(SteeringMeeting, site.meeting)
        referent, region = meeting.created_by, meeting.created_by.memberships[0].organisation
        for days in range(5):
            services.schedule_meeting(
                meeting.committee.operation, meeting_data(20 + days), by=referent, org=region
            )
    large = queries(app, client, site.base)
    assert len(small) == len(large), explain(small, large)
