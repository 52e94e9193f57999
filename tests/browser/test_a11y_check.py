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


STYLED = (
    '<!doctype html><html lang="fr"><head><title>Essai</title>'
    "<style>.pale {{ color: #bbb; background: #fff; }}</style></head>"
    "<body><main><h1>Essai</h1><p>{}</p></main></body></html>"
)


def test_a_contrast_failure_is_found_in_a_new_structure_every_time(page):
    """The contrast rule is skipped only for a structure already found clean: the same words
    in a new element with pale text are checked, and fail on every check."""
    page.set_content(STYLED.format("Texte lisible"))
    check_a11y(page, "readable")
    page.set_content(STYLED.format('<span class="pale">Texte lisible</span>'))
    for _ in range(2):
        with pytest.raises(pytest.fail.Exception, match="color-contrast"):
            check_a11y(page, "pale text")


def test_other_rules_still_run_on_a_structure_whose_contrasts_were_checked(page):
    """Same elements, other words: the contrast rule may be skipped, the others are not (an
    empty title of a link is caught on a page whose structure was checked clean)."""
    page.set_content(STYLED.format('<a href="/a">Un lien</a>'))
    check_a11y(page, "link with a name")
    page.set_content(STYLED.format('<a href="/b"><img src="/x.png" alt="Autre"></a>'))
    check_a11y(page, "image link with a name")
    page.set_content(STYLED.format('<a href="/c"><img src="/x.png" alt=""></a>'))
    with pytest.raises(pytest.fail.Exception, match="link-name"):
        check_a11y(page, "image link without a name")


HOVERED = (
    '<!doctype html><html lang="fr"><head><title>Essai</title>'
    "<style>a:hover {{ color: #ccc; background: #fff; }}</style></head>"
    "<body><main><h1>Essai</h1><p>{}</p></main></body></html>"
)


def test_a_state_makes_a_new_style_context(page):
    """A link found clean at rest is checked again, contrast included, once hovered: the
    pointer left on it by a click changes its colours, and its style context says so."""
    page.set_content(HOVERED.format('<a href="/survol">Survolez-moi</a>'))
    check_a11y(page, "link at rest")
    page.get_by_role("link", name="Survolez-moi").hover()
    with pytest.raises(pytest.fail.Exception, match="color-contrast"):
        check_a11y(page, "hovered link")


def test_contexts_checked_on_two_pages_cover_a_third_that_only_mixes_them(page):
    """A page whose every text sits in a context already found clean skips the contrast
    rule, yet a pale text in one new context on it still fails."""
    page.set_content(STYLED.format('<em class="un">Premier</em>'))
    check_a11y(page, "first context")
    page.set_content(STYLED.format('<strong class="deux">Second</strong>'))
    check_a11y(page, "second context")
    page.set_content(
        STYLED.format('<em class="un">Premier</em> <strong class="deux">Second</strong>')
    )
    check_a11y(page, "both contexts")
    page.set_content(
        STYLED.format('<em class="un">Premier</em> <strong class="pale">Pâle</strong>')
    )
    with pytest.raises(pytest.fail.Exception, match="color-contrast"):
        check_a11y(page, "a pale third context")
