"""The axe-core check itself: it fails on a violation, every time, and only a clean document
is remembered as checked."""

import pytest

from tests.browser.support import check_a11y

pytestmark = pytest.mark.browser

CLEAN = (
    '<!doctype html><html lang="fr"><head><title>Essai</title></head>'
    "<body><main><h1>Essai</h1><p>{}</p></main></body></html>"
)
BROKEN = CLEAN.replace("<p>{}</p>", '<p>{}</p><img src="/static/favicon.ico">')


def test_a_violation_fails_each_time_it_is_checked(page):
    page.set_content(BROKEN.format("Une image sans texte de remplacement"))
    for _ in range(2):
        with pytest.raises(pytest.fail.Exception, match="image-alt"):
            check_a11y(page, "image without alt")


def test_a_clean_document_passes_and_a_changed_one_is_checked_again(page):
    page.set_content(CLEAN.format("Premier contenu"))
    check_a11y(page, "clean")
    check_a11y(page, "clean, again")
    page.set_content(BROKEN.format("Premier contenu"))
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        check_a11y(page, "same text, an image added")
