"""Gunicorn's access log without the secrets of token links.

An invitation or password reset link carries its token in the path
(``/mot-de-passe/<token>``), and the pages it opens send that URL as the ``Referer`` of
their stylesheet and scripts: an access log would keep working credentials for anyone who
reads it. ``RedactingLogger`` masks the token in every value of a log line (request line,
path, headers) before gunicorn writes it. Used by ``make run``:
``gunicorn --logger-class portal.gunicorn_logging.RedactingLogger``.
"""

import re

from gunicorn.glogging import Logger

# The path prefixes whose next segment is a token; tests/core/test_gunicorn_logging.py
# checks that every route of the portal with a ``token`` argument is covered.
TOKEN_PREFIXES = ("invitation", "mot-de-passe", "nouvelle-adresse")
REDACTED = "<token>"
_PREFIXES = "|".join(map(re.escape, TOKEN_PREFIXES))
_TOKEN = re.compile(rf"(/(?:{_PREFIXES})/)[^/?#\s\"]+")


def redact(text: str) -> str:
    """``text`` with the token of every token link replaced by ``<token>``."""
    return _TOKEN.sub(r"\g<1>" + REDACTED, text)


class RedactingLogger(Logger):
    """Gunicorn's logger whose access log lines never hold a link's token."""

    def atoms(self, resp, req, environ, request_time):
        """Gunicorn's log atoms, every text value redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(v) if isinstance(v, str) else v for key, v in atoms.items()}
