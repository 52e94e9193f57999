"""The register of processing for the Région's admins (on the administration blueprint,
whose guard admits them only), rendered from ``register.py``."""

from flask import render_template

from portal.admin import bp
from portal.privacy.register import PROCESSINGS


@bp.get("/registre-des-traitements")
def show_register():
    """Every processing: data, purposes, legal basis, recipients, retention."""
    return render_template("privacy/register.html", processings=PROCESSINGS)
