"""TOTP second factor, the rules (no HTTP): codes and their window, replay, recovery codes,
enrolment, disabling, the Région's reset and who must enrol."""

import hashlib

import pyotp
import pytest
from sqlalchemy import select

from portal.accounts import mfa
from portal.accounts.models import OrgKind, RecoveryCode
from portal.audit.models import AuditEvent
from portal.config import load_config
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import enrol_totp, make_org, make_user
from tests.support import PASSWORD

SECRET = pyotp.random_base32()
AT = 1_800_000_000.0  # a fixed instant, on a step boundary (1800000000 / 30 = 60000000)


def code_at(step_offset: int, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(AT + 30 * step_offset)


def wrong_code(secret: str) -> str:
    """A code that is not the current one (nor, but for a one-in-a-million chance, a
    neighbour's)."""
    return f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"


def test_the_current_code_and_one_step_either_side_are_accepted():
    step = mfa.time_step(AT)
    for offset in (-1, 0, 1):
        assert mfa.matching_step(SECRET, code_at(offset), None, at=AT) == step + offset


def test_codes_two_steps_away_are_refused():
    assert mfa.matching_step(SECRET, code_at(-2), None, at=AT) is None
    assert mfa.matching_step(SECRET, code_at(2), None, at=AT) is None


def test_a_used_step_and_earlier_ones_are_refused_a_later_one_is_not():
    step = mfa.time_step(AT)
    assert mfa.matching_step(SECRET, code_at(0), step, at=AT) is None  # replay
    assert mfa.matching_step(SECRET, code_at(-1), step, at=AT) is None
    assert mfa.matching_step(SECRET, code_at(1), step, at=AT) == step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None])
def test_malformed_codes_are_refused(code):
    assert mfa.matching_step(SECRET, code, None, at=AT) is None


def test_spaces_in_a_code_are_ignored():
    code = code_at(0)
    assert mfa.matching_step(SECRET, f" {code[:3]} {code[3:]} ", None, at=AT) is not None


def test_recovery_codes_are_random_80_bits_and_hashed_without_case_or_dashes():
    codes = {mfa.new_recovery_code() for _i in range(50)}
    assert len(codes) == 50
    code = codes.pop()
    assert len(code) == 19 and code.count("-") == 3
    expected = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert mfa.hash_recovery_code(code) == expected
    assert mfa.hash_recovery_code(" " + code.lower().replace("-", " ")) == expected


def test_the_secret_is_shown_in_groups_of_four():
    assert mfa.grouped("ABCDEFGHIJKLMNOP") == "ABCD EFGH IJKL MNOP"


def test_the_qr_code_is_inline_svg_without_style_or_script(ctx):
    user = make_user(make_org())
    mfa.start_enrolment(user)
    svg = str(mfa.qr_svg(user))
    assert svg.startswith("<svg") and "<path" in svg
    assert "style" not in svg and "script" not in svg
    assert mfa.provisioning_uri(user).startswith("otpauth://totp/Portail%20DEFI:")


def test_enrolment_is_confirmed_by_a_code_and_gives_ten_hashed_recovery_codes(ctx):
    user = make_user(make_org())
    mfa.start_enrolment(user)
    assert not user.has_totp
    with pytest.raises(RuleError) as refused:
        mfa.confirm_enrolment(user, wrong_code(user.totp_secret))
    assert refused.value.field == "code"
    codes = mfa.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).now())
    assert user.has_totp and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert sorted(stored) == sorted(mfa.hash_recovery_code(c) for c in codes)
    assert not set(codes) & set(stored)


def test_the_secret_never_goes_into_the_audit_log(ctx):
    user = make_user(make_org())
    mfa.start_enrolment(user)
    mfa.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).now())
    events = db.session.scalars(select(AuditEvent)).all()
    assert {"mfa.enrolment_started", "mfa.enabled"} <= {e.action for e in events}
    assert not any(user.totp_secret in repr(e.detail) for e in events)


def test_a_login_code_cannot_be_replayed(ctx):
    user = make_user(make_org())
    enrol_totp(user)
    code = pyotp.TOTP(user.totp_secret).now()
    assert mfa.verify_login(user, code) == "totp"
    with pytest.raises(RuleError):
        mfa.verify_login(user, code)


def test_a_recovery_code_works_once(ctx):
    user = make_user(make_org())
    codes = enrol_totp(user)
    assert mfa.verify_login(user, codes[3].lower()) == "recovery"
    assert mfa.remaining_recovery_codes(user) == 9
    with pytest.raises(RuleError):
        mfa.verify_login(user, codes[3])
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "mfa.recovery_code_used" in actions and "mfa.failed" in actions


def test_disabling_needs_the_password_and_a_code(ctx):
    user = make_user(make_org())
    enrol_totp(user)
    with pytest.raises(RuleError):
        mfa.disable(user, "pas le bon mot de passe", pyotp.TOTP(user.totp_secret).now())
    with pytest.raises(RuleError):
        mfa.disable(user, PASSWORD, "999999x")
    mfa.disable(user, PASSWORD, pyotp.TOTP(user.totp_secret).now())
    assert not user.has_totp and user.totp_secret is None
    assert db.session.scalars(select(RecoveryCode)).all() == []


def test_wrong_codes_lock_disabling_too(ctx):
    user = make_user(make_org())
    enrol_totp(user)
    for _i in range(5):
        with pytest.raises(RuleError, match="Code incorrect"):
            mfa.disable(user, PASSWORD, wrong_code(user.totp_secret))
    with pytest.raises(RuleError, match="Trop de codes incorrects"):
        mfa.disable(user, PASSWORD, pyotp.TOTP(user.totp_secret).now())
    assert user.has_totp


def test_admins_must_enrol_only_where_required(ctx, app, monkeypatch):
    admin = make_user(make_org(), admin=True)
    member = make_user(make_org())
    assert not mfa.must_enrol(admin)
    monkeypatch.setitem(app.config, "MFA_REQUIRED_FOR_ADMINS", True)
    assert mfa.must_enrol(admin) and not mfa.must_enrol(member)
    enrol_totp(admin)
    assert not mfa.must_enrol(admin)
    with pytest.raises(RuleError, match="obligatoire"):
        mfa.disable(admin, PASSWORD, pyotp.TOTP(admin.totp_secret).now())


def test_production_requires_the_second_factor_of_admins(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("MFA_REQUIRED_FOR_ADMINS", raising=False)
    assert load_config(str(tmp_path))["MFA_REQUIRED_FOR_ADMINS"] is True
    monkeypatch.setenv("PORTAL_ENV", "development")
    assert load_config(str(tmp_path))["MFA_REQUIRED_FOR_ADMINS"] is False


def test_the_region_resets_a_lost_factor_and_the_person_is_told(ctx):
    region_admin = make_user(make_org(OrgKind.REGION), admin=True)
    user = make_user(make_org())
    enrol_totp(user)
    mfa.reset(user, by=region_admin)
    assert not user.has_totp and user.totp_secret is None
    note = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
    assert note.kind == "mfa_reset" and "réinitialisée" in note.message
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mfa.reset"))
    assert event.actor_id == region_admin.id and event.object_id == user.id
    with pytest.raises(RuleError):
        mfa.reset(user, by=region_admin)
