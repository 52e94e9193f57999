"""A browser's User-Agent told in plain French words (« Firefox sur Windows »).

Only what « Mes sessions » needs to recognise one's own devices: the browser family and
the system, checked in an order where the more specific wins (Edge and Opera also say
« Chrome », Chrome also says « Safari », Android also says « Linux »).
"""

from flask_babel import gettext as _

BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device(user_agent: str) -> str:
    """« Firefox sur Windows », « Navigateur inconnu sur Android », « Appareil inconnu »."""
    agent = user_agent or ""
    browser = next((name for token, name in BROWSERS if token in agent), None)
    system = next((name for token, name in SYSTEMS if token in agent), None)
    if browser and system:
        return _("%(browser)s sur %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return _("Navigateur inconnu sur %(system)s", system=system)
    return _("Appareil inconnu")
