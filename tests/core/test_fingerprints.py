"""SHA-256 fingerprints in blocks (portal/core/fingerprints.py, issue 15)."""

from portal.core.fingerprints import NBSP, blocks, for_document
from portal.core.text import document_text

DIGEST = "0123456789abcdef" * 4


def test_a_full_hash_reads_in_eight_blocks_of_eight_and_a_short_one_in_blocks_of_four():
    assert blocks(DIGEST) == ["01234567", "89abcdef"] * 4
    assert blocks(DIGEST[:12]) == ["0123", "4567", "89ab"]
    assert "".join(blocks(DIGEST)) == DIGEST


def test_a_document_keeps_each_block_whole():
    assert for_document(DIGEST[:12]) == NBSP.join(["0123", "4567", "89ab"])
    two_lines = for_document(DIGEST, per_line=4)
    assert two_lines.split("\n") == [NBSP.join(["01234567", "89abcdef"] * 2)] * 2
    assert " " not in two_lines  # a line may only break where the document says
    assert len(for_document(DIGEST, per_line=2).split("\n")) == 4
    assert document_text(two_lines) == two_lines  # nothing a Word document cannot hold
