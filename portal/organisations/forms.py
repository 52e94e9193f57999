"""Forms for organisations, their members and the Région's territories."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.accounts.forms import EMAIL_INVALID, REQUIRED
from portal.accounts.models import ORG_KIND_TITLES, PARTNER_TYPE_TITLES, OrgKind, PartnerType
from portal.core.forms import PortalForm
from portal.core.validators import EmailAddress, FrenchPostalCode, Phone, Siret


class InviteMemberForm(PortalForm):
    email = EmailField(
        _l("Adresse électronique de la personne invitée"),
        validators=[DataRequired(REQUIRED), EmailAddress(EMAIL_INVALID)],
    )
    is_admin = BooleanField(_l("Administrateur·rice de l'organisation"))
    # Shown for an employer only: its tutors follow the trainees it hosts in immersion.
    is_tutor = BooleanField(_l("Tuteur·rice (accompagne les stagiaires en immersion)"))


class OrganisationForm(PortalForm):
    kind = SelectField(
        _l("Type d'organisation"),
        choices=[SelectChoice(k.value, label) for k, label in ORG_KIND_TITLES.items()],
        validators=[DataRequired(REQUIRED)],
    )
    name = StringField(_l("Raison sociale"), validators=[DataRequired(REQUIRED), Length(max=200)])
    siret = StringField(_l("SIRET (14 chiffres, facultatif)"), validators=[Siret(), Length(max=20)])
    partner_type = SelectField(
        _l("Domaine du partenaire (pour un partenaire)"),
        choices=[SelectChoice("", _l("— Sans objet —"))]
        + [SelectChoice(p.value, label) for p, label in PARTNER_TYPE_TITLES.items()],
        # No Optional(): it would stop the chain before validate_partner_type runs.
    )
    address = StringField(_l("Adresse"), validators=[Length(max=250)])
    postal_code = StringField(_l("Code postal"), validators=[FrenchPostalCode(), Length(max=5)])
    city = StringField(_l("Commune"), validators=[Length(max=120)])
    email = EmailField(
        _l("Adresse électronique de contact (facultatif)"),
        validators=[Optional(), EmailAddress(EMAIL_INVALID), Length(max=254)],
    )
    phone = StringField(_l("Téléphone (facultatif)"), validators=[Phone(), Length(max=30)])
    territory_id = SelectField(
        _l("Bassin d'emploi"), coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )

    def set_territories(self, territories) -> None:
        self.territory_id.choices = [SelectChoice("", _l("— Aucun —"))] + [
            SelectChoice(t.id, t.name) for t in territories
        ]

    def validate_partner_type(self, field):
        if self.kind.data == OrgKind.PARTNER.value and not field.data:
            raise ValidationError(_l("Précisez le domaine du partenaire."))

    def to_data(self, territories_by_id: dict) -> dict:
        """The validated values as the service expects them."""
        return {
            "kind": OrgKind(self.kind.data),
            "name": self.name.data.strip(),
            "siret": self.siret.data or None,
            "partner_type": PartnerType(self.partner_type.data) if self.partner_type.data else None,
            "address": (self.address.data or "").strip(),
            "postal_code": (self.postal_code.data or "").strip(),
            "city": (self.city.data or "").strip(),
            "email": (self.email.data or "").strip().lower(),
            "phone": (self.phone.data or "").strip(),
            "territory": territories_by_id.get(self.territory_id.data),
        }


class TerritoryForm(PortalForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=20),
            Regexp(r"^[A-Z0-9-]+$", message=_l("Majuscules, chiffres et tirets uniquement.")),
        ],
    )
    name = StringField(_l("Nom du bassin"), validators=[DataRequired(REQUIRED), Length(max=120)])
    departments = StringField(_l("Départements (ex. 45, 41)"), validators=[Length(max=120)])
    referent_id = SelectField(
        _l("Référent·e territorial·e formation"),
        coerce=lambda v: int(v) if v else None,
        validators=[Optional()],
    )

    def set_referents(self, users) -> None:
        self.referent_id.choices = [SelectChoice("", _l("— À désigner —"))] + [
            SelectChoice(u.id, f"{u.full_name} ({u.email})") for u in users
        ]
