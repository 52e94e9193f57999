"""The application ``make bench`` serves under gunicorn: the portal, and at ``/bonjour`` a
bare Flask hello-world mounted in the same process — the reference each page's requests
per second are divided by (issue #16), served by the same workers in the same run."""

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from portal import create_app

hello = Flask("bonjour")


@hello.get("/")
def bonjour() -> str:
    """The reference: no database, no session, no template."""
    return "Bonjour"


portal = create_app()
app = DispatcherMiddleware(portal, {"/bonjour": hello})
