"""``support.ServingGate``, in front of the browser tests' live server: between two tests it
answers nothing, and closing it waits for the requests still being served. Without it a
beacon sent by a closing page was served while the cleanup emptied the tables (CI failed on
PostgreSQL: a presence re-inserted under a design being deleted)."""

import threading

from tests.support import ServingGate


def _call(gate, environ=None):
    statuses = []
    body = gate(environ or {}, lambda status, headers: statuses.append(status))
    content = b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return statuses[0], content


def test_a_closed_gate_turns_requests_away_without_calling_the_app():
    called = []
    gate = ServingGate(lambda environ, start: called.append(1) or start("200 OK", []) or [b"ok"])
    assert _call(gate)[0].startswith("503")
    gate.open()
    assert _call(gate) == ("200 OK", b"ok")
    gate.close()
    assert _call(gate)[0].startswith("503")
    assert called == [1]


def test_closing_waits_for_the_request_being_served_then_refuses_the_next():
    entered, release = threading.Event(), threading.Event()
    finished = []

    def slow_app(environ, start_response):
        entered.set()
        release.wait(5)
        finished.append("served")
        start_response("200 OK", [])
        return [b"ok"]

    gate = ServingGate(slow_app)
    gate.open()
    request = threading.Thread(target=_call, args=(gate,))
    request.start()
    assert entered.wait(5)

    closed = threading.Event()
    closer = threading.Thread(target=lambda: (gate.close(), closed.set()))
    closer.start()
    assert not closed.wait(0.2)  # the request is still in flight: close() waits
    release.set()
    assert closed.wait(5)
    assert finished == ["served"]
    request.join(5)
    closer.join(5)
    assert _call(gate)[0].startswith("503")
