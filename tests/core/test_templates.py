"""Templates read flags, not status strings (CONVENTIONS.md « Templates read flags »): a
status compared with a literal in a template silently goes wrong when a status is renamed
or added, where a flag on the model is one definition, tested with the model."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# ``x.status == "…"``, ``x.status.value != '…'``, ``status.value in ("…", …)``.
STATUS_LITERAL = re.compile(r"""\bstatus(?:\.value)?\s*(?:==|!=|(?:not\s+)?in\b)\s*[(\[]?\s*["']""")


def test_the_pattern_finds_a_status_compared_with_a_string():
    assert STATUS_LITERAL.search('{% if b.status.value != "withdrawn" %}')
    assert STATUS_LITERAL.search("{% if op.status in ('closed', 'cancelled') %}")
    assert not STATUS_LITERAL.search("{% if filters.status == s %}")
    assert not STATUS_LITERAL.search('<span class="status status--{{ s.status.value }}">')


def test_no_template_compares_a_status_with_a_string():
    """Review of #11: templates/assessment/_status.html (and the evaluation card, the steps
    of an operation) compared status strings; they read flags of the model instead."""
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if STATUS_LITERAL.search(line)
    ]
    assert found == []
