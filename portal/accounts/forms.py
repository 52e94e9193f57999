"""Forms of the accounts area; every message is French."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.accounts.passwords import MAX_LENGTH, password_problems
from portal.core.forms import PortalForm
from portal.core.validators import EmailAddress, Phone

REQUIRED = _l("Ce champ est obligatoire.")
EMAIL_INVALID = _l("Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")


class EmptyForm(PortalForm):
    """A POST-only button: carries the CSRF token and nothing else."""


class LoginForm(PortalForm):
    email = EmailField(
        _l("Adresse électronique"),
        validators=[DataRequired(REQUIRED), EmailAddress(EMAIL_INVALID)],
    )
    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )
    next = HiddenField()


class NewPasswordMixin:
    """A new password, checked against the policy, typed twice."""

    password = PasswordField(
        _l("Mot de passe (12 caractères minimum)"), validators=[DataRequired(REQUIRED)]
    )
    password_confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", _l("Les deux mots de passe ne sont pas identiques.")),
        ],
    )
    policy_email = ""

    def validate_password(self, field):
        problems = password_problems(field.data or "", self.policy_email)
        if problems:
            raise ValidationError(problems[0])


class AcceptInvitationForm(NewPasswordMixin, PortalForm):
    first_name = StringField(_l("Prénom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    phone = StringField(_l("Téléphone (facultatif)"), validators=[Phone(), Length(max=30)])


class JoinWithAccountForm(PortalForm):
    password = PasswordField(
        _l("Votre mot de passe actuel"), validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )


class PasswordResetRequestForm(PortalForm):
    email = EmailField(
        _l("Adresse électronique"),
        validators=[DataRequired(REQUIRED), EmailAddress(EMAIL_INVALID)],
    )


class PasswordResetForm(NewPasswordMixin, PortalForm):
    pass


class SwitchOrganisationForm(PortalForm):
    organisation_id = IntegerField(validators=[DataRequired()])


class LanguageForm(PortalForm):
    lang = HiddenField(validators=[DataRequired()])


class ProfileForm(PortalForm):
    first_name = StringField(_l("Prénom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    phone = StringField(_l("Téléphone (facultatif)"), validators=[Phone(), Length(max=30)])


class ChangePasswordForm(NewPasswordMixin, PortalForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"), validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )


class ChangeEmailForm(PortalForm):
    """A new login address, confirmed by a link sent to it; the current password first."""

    email = EmailField(
        _l("Nouvelle adresse électronique"),
        validators=[DataRequired(REQUIRED), EmailAddress(EMAIL_INVALID), Length(max=254)],
    )
    current_password = PasswordField(
        _l("Mot de passe actuel"), validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )


class CodeForm(PortalForm):
    """A code from the authenticator app (or, at login, a recovery code)."""

    code = StringField(
        _l("Code de vérification"), validators=[DataRequired(REQUIRED), Length(max=40)]
    )


class DisableMfaForm(CodeForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"), validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )


class ConfirmIdentityForm(PortalForm):
    """The password again (and a code where a second factor is enrolled) before a
    sensitive action; the view requires the code of those who have one."""

    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )
    code = StringField(_l("Code de vérification"), validators=[Length(max=40)])
    next = HiddenField()
