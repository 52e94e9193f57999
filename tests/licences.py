"""Every installed dependency's licence, checked against the portal's AGPL-3.0-or-later.

``python -m tests.licences`` prints one line per distribution installed in the running
environment (the app's dependencies and the tests') and exits 1 when one is incompatible
or cannot be read; ``make lint`` and ``tests/core/test_licences.py`` run it.

A distribution's licence is read, in that order, from its ``License-Expression`` (PEP 639),
a short SPDX-like ``License`` field, its ``License ::`` classifiers, then the first line of
its licence file. Compatibility is judged per SPDX identifier: permissive licences, weak
copyleft (LGPL, MPL-2.0) and the GPL family that admits version 3 can all be combined into
an AGPL-3.0-or-later work; GPL-2.0-only cannot, nor anything not listed here.
"""

import re
import sys
from dataclasses import dataclass
from importlib.metadata import Distribution, distributions

PROJECT = "portail-defi"

COMPATIBLE = {
    "0BSD",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "CC0-1.0",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ISC",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "MIT",
    "MIT-0",
    "MPL-2.0",
    "PSF-2.0",
    "Python-2.0",
    "Unlicense",
    "Zlib",
}

# What free-text licence fields, classifiers and licence files say, as SPDX identifiers.
ALIASES = {
    "apache 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "apache license": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "bsd license": "BSD-3-Clause",
    "mit license": "MIT",
    "the unlicense (unlicense)": "Unlicense",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "python software foundation license": "PSF-2.0",
    "isc license (iscl)": "ISC",
}


@dataclass(frozen=True)
class Verdict:
    """One distribution, the licence found for it, where it was read, and the judgement."""

    name: str
    version: str
    licence: str | None
    source: str
    compatible: bool


def _spdx(text: str) -> str | None:
    text = text.strip()
    if text in COMPATIBLE or re.fullmatch(r"[A-Za-z0-9.+-]+", text):
        return text
    return ALIASES.get(text.lower())


def _from_file(dist: Distribution) -> str | None:
    """The SPDX id named by the first line of the distribution's licence file, if any."""
    for path in dist.files or ():
        if ".dist-info" not in str(path) or not re.match(r"(?i)(licen[cs]e|copying)", path.name):
            continue
        text = path.locate().read_text(encoding="utf-8", errors="replace").strip()
        first = text.splitlines()[0].strip().lower() if text else ""
        for alias, spdx in ALIASES.items():
            if first.startswith(alias):
                return spdx
        if "redistribution and use in source and binary forms" in text.lower():
            return "BSD-3-Clause" if "neither the name" in text.lower() else "BSD-2-Clause"
    return None


def licence_of(dist: Distribution) -> tuple[str | None, str]:
    """``(licence expression, where it was read)`` for one distribution."""
    meta = dist.metadata
    if meta.get("License-Expression"):
        return meta["License-Expression"], "License-Expression"
    field = (meta.get("License") or "").strip()
    if field and "\n" not in field and (spdx := _spdx(field)):
        return spdx, "License"
    classifiers = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    found = [_spdx(c) for c in classifiers if c != "OSI Approved"]
    if found and all(found):
        return " AND ".join(sorted(set(found))), "Classifier"
    spdx = _from_file(dist)
    return (spdx, "licence file") if spdx else (None, "unreadable")


def is_compatible(expression: str) -> bool:
    """An SPDX expression is compatible when every AND-term has one compatible OR-choice."""
    terms = re.split(r"\s+AND\s+", expression.replace("(", "").replace(")", ""))
    return all(
        any(choice.strip() in COMPATIBLE for choice in re.split(r"\s+OR\s+", term))
        for term in terms
    )


def verdicts() -> list[Verdict]:
    """Every distribution installed in this environment but the project itself."""
    seen = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name is None or name.lower() == PROJECT or name.lower() in seen:
            continue
        licence, source = licence_of(dist)
        seen[name.lower()] = Verdict(
            name, dist.version, licence, source, bool(licence) and is_compatible(licence)
        )
    return sorted(seen.values(), key=lambda v: v.name.lower())


def main() -> int:
    """Print the table; exit 1 when a licence is incompatible or unreadable."""
    results = verdicts()
    for v in results:
        mark = "ok " if v.compatible else "NON"
        print(f"{mark} {v.name:<28} {v.version:<12} {v.licence or '?':<28} ({v.source})")
    refused = [v for v in results if not v.compatible]
    if refused:
        print(
            f"\n{len(refused)} dépendance(s) à licence incompatible avec AGPL-3.0-or-later "
            "ou illisible : " + ", ".join(v.name for v in refused),
            file=sys.stderr,
        )
        return 1
    print(f"\n{len(results)} dépendances compatibles avec AGPL-3.0-or-later.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
