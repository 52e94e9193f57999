"""« de » and « à » before a name, as French says them: « d'Orléans », « du Titre
professionnel… », « aux Compagnons du Devoir », « de Saran ».

A message that puts a name after « de » or « à » takes the whole group as one parameter
(``_("Espace %(of_org)s.", of_org=de(name))``, ``{{ name|de }}`` in templates), so the
French sentence elides and contracts whatever the name is; another locale reads the group
through its own catalogue (« of Orléans »).

The rules:
- a vowel, accented or not, or a mute h (a short list of known words, since most names in
  h are aspirated: « de Hauts-de-France ») elides « de » : « d'Orléans », « d'Hôpital… »;
  « Y » does before a consonant (« d'Yves ») and not before a vowel (« de Yanis »);
- a leading article contracts: « Le Titre… » → « du Titre… », « au Titre… »; « Les
  Tilleuls » → « des Tilleuls », « aux Tilleuls »; « La » and « L' » stay, in lower case
  (« de la Poste », « à l'Agence… »);
- an all-capitals acronym goes by its first letter (« d'AFPA », « de SNCF »);
- « à » never elides: « à Orléans ».
"""

import unicodedata

from flask_babel import get_locale
from flask_babel import gettext as _

VOWELS = frozenset("aeiouy")  # after the accents are taken off: « É », « Î », « Œ »…
# Words whose h is mute (« l'hôpital »), compared without accents; any other h is aspirated.
MUTE_H = frozenset(
    {
        "habilitation",
        "habitat",
        "habitation",
        "habillement",
        "hebergement",
        "helene",
        "heloise",
        "herve",
        "histoire",
        "homme",
        "hommes",
        "horizon",
        "horizons",
        "horticulture",
        "hospitalier",
        "hospitaliere",
        "hotel",
        "hotellerie",
        "hopital",
        "hubert",
        "hugo",
        "humanis",
        "hygiene",
    }
)
APOSTROPHES = ("'", "\u2019")
# Certifications named by a common noun take its article: « conduisant au titre… ».
MASCULINE_CERTIFICATIONS = frozenset(
    {"bac", "baccalaureat", "bep", "bp", "brevet", "bts", "but", "cap", "certificat", "cqp"}
    | {"diplome", "dut", "tp", "titre"}
)
FEMININE_CERTIFICATIONS = frozenset(
    {"certification", "habilitation", "licence", "mention", "qualification"}
)


def _plain(word: str) -> str:
    """``word`` in lower case without its accents (« Hôpital » → « hopital »)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe")


def _first_word(name: str) -> str:
    for separator in (" ", "-", *APOSTROPHES):
        name = name.split(separator, 1)[0]
    return name


def elides(name: str) -> bool:
    """True when « de » before ``name`` becomes « d' »."""
    word = _plain(_first_word(name))
    if not word:
        return False
    if word[0] == "y":
        return len(word) > 1 and word[1] not in VOWELS
    if word[0] == "h":
        return word in MUTE_H
    return word[0] in VOWELS


def _article(name: str) -> tuple[str, str]:
    """(« le », « les », « la » or « l' » when ``name`` starts with that article, the rest
    of the name)."""
    head, _space, rest = name.partition(" ")
    if rest and head.lower() in ("le", "les", "la"):
        return head.lower(), rest
    if name[:1] in "Ll" and name[1:2] in APOSTROPHES and len(name) > 2:
        return "l'", name[2:]
    return "", name


def _contract(preposition: str, article: str, rest: str) -> str:
    if article == "le":
        return f"{'du' if preposition == 'de' else 'au'} {rest}"
    if article == "les":
        return f"{'des' if preposition == 'de' else 'aux'} {rest}"
    space = "" if article == "l'" else " "
    return f"{preposition} {article}{space}{rest}"


def _french() -> bool:
    locale = get_locale()  # None outside an application context: French, the default
    return locale is None or locale.language == "fr"


def de(name) -> str:
    """« de » and ``name`` as one group: « d'Orléans », « du Mans », « des Tilleuls »,
    « de Saran »; the preposition alone for an empty name."""
    name = str(name or "").strip()
    if not _french():
        return _("de %(name)s", name=name).strip()  # the English catalogue: « of … »
    article, rest = _article(name)
    if article:
        return _contract("de", article, rest)
    if not name:
        return "de"
    return f"d'{name}" if elides(name) else f"de {name}"


def a(name) -> str:
    """« à » and ``name`` as one group: « à Orléans », « au Titre… », « aux Compagnons… »,
    « à l'Agence… »; the preposition alone for an empty name."""
    name = str(name or "").strip()
    if not _french():
        return _("à %(name)s", name=name).strip()  # the English catalogue: « to … »
    article, rest = _article(name)
    if article:
        return _contract("à", article, rest)
    return f"à {name}".strip()


def certification(title) -> str:
    """``title`` with the article French puts before a certification named by a common
    noun (« le Titre professionnel… », « la Licence… », « l'Habilitation… »), so that
    ``a(certification(title))`` reads « au Titre professionnel… »; any other title, or
    one that already starts with an article, as written."""
    title = str(title or "").strip()
    word = _plain(_first_word(title))
    if word in MASCULINE_CERTIFICATIONS or word in FEMININE_CERTIFICATIONS:
        if elides(title):
            return f"l'{title}"
        return f"{'le' if word in MASCULINE_CERTIFICATIONS else 'la'} {title}"
    return title


def register(app) -> None:
    """The ``de`` and ``a`` Jinja filters: ``{{ territory.name|de }}``."""
    app.jinja_env.filters["de"] = de
    app.jinja_env.filters["a"] = a
