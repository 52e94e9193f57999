"""Issue #11 L13: tokens of invitation and reset links never reach gunicorn's access log."""

import datetime
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from portal.gunicorn_logging import RedactingLogger, redact

TOKEN = "Zq3x-SECRET_token-0123456789abcdefABCDEF"


def token_paths(app) -> list[str]:
    """A path of every route of the portal whose URL carries a token."""
    adapter = app.url_map.bind("portail.test")
    rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    return [adapter.build(rule.endpoint, {"token": TOKEN}) for rule in rules]


def test_every_token_route_is_redacted(app):
    """Issue #11 L13: a new route with a token in its path must be added to the redaction."""
    paths = token_paths(app)
    assert len(paths) >= 2
    for path in paths:
        assert TOKEN in path and TOKEN not in redact(path), path
        assert redact(path).endswith("/<token>")


@pytest.mark.parametrize(
    "text",
    [
        "/mot-de-passe-oublie",
        "/operations/12/conception",
        "/static/css/app.css?v=1",
        "Mozilla/5.0 (X11; Linux x86_64)",
    ],
)
def test_other_paths_are_left_as_they_are(text):
    assert redact(text) == text


def test_the_access_log_line_holds_no_token(capsys):
    """Issue #11 L13: the request line, the path and the Referer of a token page's assets."""
    config = Config()
    config.set("accesslog", "-")
    logger = RedactingLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/mot-de-passe/{TOKEN}?from=mail",
        "PATH_INFO": f"/mot-de-passe/{TOKEN}",
        "QUERY_STRING": "from=mail",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": f"https://portail.example.fr/invitation/{TOKEN}",
        "HTTP_USER_AGENT": "Firefox",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=1234)
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    try:
        logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
        for handler in logger.access_log.handlers:
            handler.flush()
    finally:  # gunicorn's loggers are global: leave none writing to this test's streams
        logger.access_log.handlers.clear()
        logger.error_log.handlers.clear()
    line = capsys.readouterr().out
    assert "GET /mot-de-passe/<token>?from=mail HTTP/1.1" in line
    assert "https://portail.example.fr/invitation/<token>" in line
    assert TOKEN not in line
