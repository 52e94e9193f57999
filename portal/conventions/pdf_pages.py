"""The answer of a PDF link, shared by the convention's and the bilan's: the file when it
is kept, else the page that follows its conversion job (``pdf.request_conversion``).

Under htmx the URL never sends the file: while the job runs, a poll gets ``204`` (no swap,
so the live region announces nothing until there is news), then the fragment saying that
the file is ready — a plain link to the same URL, so that the download is the user's own
navigation and recorded as such — or why the conversion failed, with « Réessayer ».
The poll names the DOCX it waits for by its SHA-256 (``?empreinte=``): answering it builds
no document, the one costly step of the link (~0.1 s for a convention).
"""

import re
from collections.abc import Callable

from flask import Response, redirect, render_template, request
from flask_babel import gettext as _

from portal import htmx
from portal.conventions import pdf

DIGEST = re.compile(r"[0-9a-f]{64}")  # a SHA-256, as the page's poll names its DOCX


def pdf_response(
    key_id: int,
    make_docx: Callable[[], bytes],
    folder: str,
    *,
    send: Callable[[bytes], Response],
    available: bool,
    **urls,
):
    """The kept PDF through ``send``; else the page (or fragment) of its conversion, queued
    if needed; a 503 when no conversion can run (``available`` false). ``make_docx``
    builds the document (only when needed: a poll names the DOCX it waits for). ``urls``:
    the page's ``title``, ``back_url`` and ``back_label``, ``pdf_url`` and ``retry_url``."""
    digest = request.args.get("empreinte", "")
    if htmx.is_htmx() and DIGEST.fullmatch(digest):
        state = pdf.state_of(key_id, digest, folder)
        if state.ready or state.failed:
            return _fragment(state, urls)
        if pdf.on_its_way(key_id, digest, folder):
            return "", 204  # nothing new: the fragment stays, and asks again
        # Its job was lost: build the DOCX and queue it again, below.
    docx = make_docx()
    state = pdf.state(key_id, docx, folder)
    if state.ready and not htmx.is_htmx():
        return send(state.data)
    if not state.ready and not available:
        return unavailable(pdf.missing_message())
    if not state.ready and not state.failed:
        pdf.request_conversion(key_id, docx, folder)  # unless one is already on its way
        if htmx.is_htmx():
            return "", 204
    status = 503 if state.failed and not htmx.is_htmx() else 200
    return htmx.render(
        "conventions/pdf_preparing.html",
        "conventions/_pdf_status.html",
        status,
        state=state,
        **urls,
    )


def _fragment(state: pdf.PdfState, urls: dict):
    return render_template(
        "conventions/_pdf_status.html",
        state=state,
        pdf_url=urls["pdf_url"],
        retry_url=urls["retry_url"],
    )


def retry_response(key_id: int, docx: bytes, folder: str, *, pdf_url: str, retry_url: str):
    """Queue a failed conversion again: htmx gets the « en préparation » fragment, a plain
    form goes back to the PDF's page (303)."""
    pdf.retry(key_id, docx, folder)
    if htmx.is_htmx():
        state = pdf.PdfState(pdf.digest_of(docx))
        return _fragment(state, {"pdf_url": pdf_url, "retry_url": retry_url})
    return redirect(pdf_url, 303)


def unavailable(message: str):
    """The French page saying why there is no PDF (503)."""
    page = render_template(
        "errors/error.html", status=503, title=_("PDF indisponible"), message=message
    )
    return page, 503
