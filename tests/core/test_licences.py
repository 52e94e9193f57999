"""The portal is AGPL-3.0-or-later: every installed dependency's licence must allow it."""

from importlib.metadata import distribution

from tests import licences


def test_every_installed_dependency_has_a_compatible_licence():
    refused = [(v.name, v.licence, v.source) for v in licences.verdicts() if not v.compatible]
    assert refused == []


def test_the_check_reads_the_real_dependencies():
    """merge3 (GPL-2.0-or-later) is the reason for the project's licence: it must be seen."""
    names = {v.name.lower(): v for v in licences.verdicts()}
    assert names["merge3"].licence == "GPL-2.0-or-later"
    assert names["flask"].compatible
    assert licences.licence_of(distribution("python-docx"))[0] == "MIT"


def test_expressions_are_judged_term_by_term():
    assert licences.is_compatible("MIT")
    assert licences.is_compatible("Apache-2.0 OR BSD-2-Clause")
    assert licences.is_compatible("(MIT AND PSF-2.0)")
    assert licences.is_compatible("GPL-2.0-only OR MIT")
    assert not licences.is_compatible("GPL-2.0-only")
    assert not licences.is_compatible("MIT AND SSPL-1.0")
    assert not licences.is_compatible("Proprietary")
    assert not licences.is_compatible("CC-BY-NC-4.0")
