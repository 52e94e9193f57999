"""The public pages: accessibility statement, legal notice, personal data, site map.

They answer without an account (``tests/core/test_routes.py`` lists them as public) and
read what a deployment changes from the configuration, so that the Région's team edits no
template to name its host or its data protection officer.
"""

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from portal.privacy.register import PROCESSINGS
from portal.public import bp
from portal.public.sitemap import site_map

# RGAA 4.1's three states of compliance, as the statement and the footer word them.
COMPLIANCE = {
    "full": _l("totalement conforme"),
    "partial": _l("partiellement conforme"),
    "none": _l("non conforme"),
}


@bp.app_template_global()
def accessibility_compliance() -> str:
    """The state of compliance the footer and the statement show (« partiellement conforme »)."""
    return str(COMPLIANCE[current_app.config["ACCESSIBILITY_COMPLIANCE"]])


def _site() -> dict:
    config = current_app.config
    return {
        "publisher": config["SITE_PUBLISHER"],
        "director": config["SITE_DIRECTOR"],
        "host": config["SITE_HOST"],
        "contact_email": config["SITE_CONTACT_EMAIL"],
        "dpo_email": config["SITE_DPO_EMAIL"],
        "retention": config["SITE_DATA_RETENTION"],
        "compliance": config["ACCESSIBILITY_COMPLIANCE"],
        "statement_date": config["ACCESSIBILITY_STATEMENT_DATE"],
    }


@bp.get("/accessibilite")
def accessibility():
    """The accessibility statement (RGAA 4.1): compliance, what is not accessible, recourse."""
    return render_template("public/accessibility.html", site=_site())


@bp.get("/mentions-legales")
def legal_notice():
    """Publisher, director of publication, host and contact."""
    return render_template("public/legal_notice.html", site=_site())


@bp.get("/donnees-personnelles")
def personal_data():
    """Who processes which personal data, why, on what basis, for how long; the rights."""
    return render_template("public/personal_data.html", site=_site(), processings=PROCESSINGS)


@bp.get("/plan-du-site")
def sitemap():
    """Every page the current person may open (the public ones when anonymous)."""
    return render_template("public/sitemap.html", groups=site_map())
