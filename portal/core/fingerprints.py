"""SHA-256 fingerprints as people read, compare and copy them: in blocks of hex digits.

A 64-digit hash read in one run is where people lose their place, and a PDF that breaks
it at whatever digit reaches the margin makes it impossible to compare. Pages show it in
blocks of 8 (4 for a short hash) that break only between blocks and copy in one piece
(``templates/macros/fingerprint.html``); documents join the blocks with no-break spaces
and start a new line only between blocks (``for_document``). The verification page
accepts what is copied either way: ``normalise_hash`` drops the spaces.
"""

NBSP = "\u00a0"


def blocks(digest: str, size: int | None = None) -> list[str]:
    """``digest`` cut in blocks: of 8 digits for a full hash, of 4 for a short one."""
    size = size or (8 if len(digest) >= 32 else 4)
    return [digest[start : start + size] for start in range(0, len(digest), size)]


def for_document(digest: str, per_line: int | None = None) -> str:
    """The hash for a Word or PDF document: blocks joined by no-break spaces, so that no
    line ever breaks inside a block; with ``per_line``, a line break after that many
    blocks (a table cell narrower than the whole hash breaks it where the reader expects)."""
    parts = blocks(digest)
    if not per_line:
        return NBSP.join(parts)
    lines = [parts[start : start + per_line] for start in range(0, len(parts), per_line)]
    return "\n".join(NBSP.join(line) for line in lines)
