"""Each test of conventions keeps its generated files (convention PDFs) in its own folder."""

import pytest


@pytest.fixture(autouse=True)
def documents_dir(app, tmp_path, monkeypatch):
    """``DOCUMENTS_DIR`` in the test's temporary folder: no PDF kept from another test."""
    folder = tmp_path / "documents"
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(folder))
    return folder
