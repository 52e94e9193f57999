"""The app starts, answers its health check and serves the login page with its headers."""

from tests.support import form_login


def test_healthz_reports_database_state(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_login_page_has_security_headers(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_world_admin_can_log_in(client, world):
    response = form_login(client, world.emails["a_admin"])
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Organisme A" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "no-store"
