"""Each test of conventions keeps its generated files (convention PDFs) in its own folder."""

import threading

import pytest


@pytest.fixture(autouse=True)
def documents_dir(app, tmp_path, monkeypatch):
    """``DOCUMENTS_DIR`` in the test's temporary folder: no PDF kept from another test."""
    folder = tmp_path / "documents"
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _background_jobs_end():
    """A PDF job started in a thread (no Redis) ends within its test: its configuration
    (``DOCUMENTS_DIR``, ``SOFFICE_PATH``) is put back afterwards."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("job "):
            thread.join(timeout=30)
