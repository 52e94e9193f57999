"""Text as the portal keeps it: no control characters, line breaks as LF, Unicode NFC.

A control character typed in a field (``\\x01`` pasted from another program, a U+2028 line
separator from a phone keyboard) breaks what reads the text later: python-docx refuses it
(an XML 1.0 document cannot hold it), so a frozen convention's DOCX and PDF would fail
forever, and a line break in an e-mail subject makes ``EmailMessage`` raise. Forms clean
what is typed (``portal/core/forms.py``); writers clean again what is already stored.
"""

import unicodedata

_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
# Not characters at all, or not allowed in XML 1.0.
_INVALID = [*range(0xD800, 0xE000), 0xFFFE, 0xFFFF]
# What people mean as a new line: kept as LF in multi-line text, a space on one line.
_LINE_BREAKS = ["\n", "\r", "\x85", "\u2028", "\u2029"]

_MULTI_LINE = dict.fromkeys(_CONTROLS + _INVALID)
_MULTI_LINE.update({ord(c): "\n" for c in _LINE_BREAKS})
_MULTI_LINE[ord("\t")] = "\t"

_ONE_LINE = dict.fromkeys(_CONTROLS + _INVALID)
_ONE_LINE.update({ord(c): " " for c in [*_LINE_BREAKS, "\t"]})


def clean_text(value: str, *, multiline: bool) -> str:
    """``value`` without C0/C1 control characters, U+2028/2029 or non-characters; line
    breaks (CRLF, CR, NEL, U+2028/2029) become LF in multi-line text and TAB is kept there,
    both become a space on one line; then Unicode NFC (one code point for « é »)."""
    if multiline:
        value = value.replace("\r\n", "\n").translate(_MULTI_LINE)
    else:
        value = value.replace("\r\n", " ").translate(_ONE_LINE)
    return unicodedata.normalize("NFC", value)


def comparison_key(text: str | None) -> str:
    """What two texts share when they say the same thing: lower case, no accents, single
    spaces (« Conduite de  CHARIOT » and « conduite de chariot » share one key)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def clean_line(value: str) -> str:
    """One line of text (a title, a name, an e-mail subject): see ``clean_text``."""
    return clean_text(value, multiline=False)


# Stored data written into a document: only what python-docx cannot hold goes, or reads as
# a stray glyph. CR and CRLF stay (a copy of a frozen convention keeps its bytes), no NFC.
_DOCUMENT = dict.fromkeys(c for c in _CONTROLS + _INVALID if chr(c) not in "\t\n\r")
_DOCUMENT.update({0x85: "\n", 0x2028: "\n", 0x2029: "\n"})


def document_text(value) -> str:
    """Any value as text a Word document can hold (None is empty), for the python-docx
    writers: data stored before forms cleaned it must not make a document fail."""
    return "" if value is None else str(value).translate(_DOCUMENT)
