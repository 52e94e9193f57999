"""Configuration read from the environment.

Every setting a deployment changes comes from an environment variable, so the
same code runs the embedded SQLite demo and the PostgreSQL production.
"""

import os
from datetime import date
from pathlib import Path


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    """One of ``allowed``; anything else stops the start-up with the variable's name."""
    value = os.environ.get(name, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r}).")
    return value


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "portal.db")
    # Heroku-style URLs and plain "postgresql://" select psycopg 3, the driver we ship.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def load_config(instance_path: str) -> dict:
    """Return the configuration mapping built from the environment."""
    env = os.environ.get("PORTAL_ENV", "development")
    production = env == "production"
    return {
        "PORTAL_ENV": env,
        # Required in production; elsewhere portal/security.py makes one in instance/.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "Portail DEFI <ne-pas-repondre@portail-defi.test>"
        ),
        # The portal's address: every absolute link (e-mails, documents) is built from it,
        # and its host is trusted (see portal/security.py). Required in production.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or None,
        # Other host names the portal answers for, comma-separated.
        "TRUSTED_HOSTS": _list("TRUSTED_HOSTS"),
        # Reverse proxies in front of the portal whose X-Forwarded-* headers are believed.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "__Host-portail" if production else "portail",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ["fr", "en"],
        # Argon2id cost; tests lower it, and a change triggers a rehash at next login.
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("ARGON2_MEMORY_COST", str(64 * 1024))),
        "ARGON2_PARALLELISM": int(os.environ.get("ARGON2_PARALLELISM", "2")),
        # Failed-login throttling (portal/accounts/throttle.py): in the window, an (account,
        # IP) pair or an IP is locked after so many failures; an account alone is only
        # slowed down after LOGIN_SLOWDOWN_AFTER failures (1, 2, 4… s, at most the maximum).
        "LOGIN_WINDOW_SECONDS": int(os.environ.get("LOGIN_WINDOW_SECONDS", "900")),
        "LOGIN_MAX_PER_ACCOUNT_IP": int(os.environ.get("LOGIN_MAX_PER_ACCOUNT_IP", "5")),
        "LOGIN_MAX_PER_IP": int(os.environ.get("LOGIN_MAX_PER_IP", "30")),
        "LOGIN_SLOWDOWN_AFTER": int(os.environ.get("LOGIN_SLOWDOWN_AFTER", "5")),
        "LOGIN_MAX_DELAY_SECONDS": int(os.environ.get("LOGIN_MAX_DELAY_SECONDS", "60")),
        # TOTP second factor (portal/accounts/mfa.py): required of every organisation's
        # admins (Région's included) in production (elsewhere if set), optional for the
        # others; an accepted password waits this long for its second factor.
        "MFA_REQUIRED_FOR_ADMINS": production or _bool("MFA_REQUIRED_FOR_ADMINS"),
        "MFA_PENDING_SECONDS": int(os.environ.get("MFA_PENDING_SECONDS", "300")),
        # Sessions (portal/accounts/user_sessions.py): ended after so many minutes without
        # activity (admins of any organisation, others), besides PERMANENT_SESSION_LIFETIME
        # counted from the login; a sensitive action (signing, password, second factor,
        # trainees' exports) asks for the password again past REAUTH_MINUTES since the last
        # one (portal/accounts/reauth.py).
        "IDLE_TIMEOUT_MINUTES_ADMINS": int(os.environ.get("IDLE_TIMEOUT_MINUTES_ADMINS", "30")),
        "IDLE_TIMEOUT_MINUTES": int(os.environ.get("IDLE_TIMEOUT_MINUTES", "120")),
        "REAUTH_MINUTES": int(os.environ.get("REAUTH_MINUTES", "10")),
        # « Mot de passe oublié » requests allowed in the window, per address and per IP.
        "RESET_MAX_PER_EMAIL": int(os.environ.get("RESET_MAX_PER_EMAIL", "3")),
        "RESET_MAX_PER_IP": int(os.environ.get("RESET_MAX_PER_IP", "20")),
        # Largest request body (uploads); each upload form also checks its own, smaller limit.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(5 * 1024 * 1024))),
        # Files kept on disk, never a temp dir (default instance/documents): the convention
        # PDFs, converted once (under conventions/), and the Région's reference documents
        # « Pour aller plus loin » (random names).
        "DOCUMENTS_DIR": os.environ.get("DOCUMENTS_DIR") or str(Path(instance_path) / "documents"),
        # Exports written in the background (``flask jobs work``): where, and for how long
        # the person who asked may download them.
        "EXPORTS_DIR": os.environ.get("EXPORTS_DIR") or str(Path(instance_path) / "exports"),
        # Archives of ``flask backup`` when no --to is given (portal/backups/).
        "BACKUPS_DIR": os.environ.get("BACKUPS_DIR") or str(Path(instance_path) / "backups"),
        "EXPORT_RETENTION_HOURS": int(os.environ.get("EXPORT_RETENTION_HOURS", "24")),
        # A PDF request waits this long for another conversion to end before a 503.
        "PDF_CONVERSION_WAIT": float(os.environ.get("PDF_CONVERSION_WAIT", "2")),
        # Convention PDFs: LibreOffice's command (looked up in PATH) and its time limit.
        "SOFFICE_PATH": os.environ.get("SOFFICE_PATH", "soffice"),
        "SOFFICE_TIMEOUT": int(os.environ.get("SOFFICE_TIMEOUT", "120")),
        # Public verification page: unknown documents allowed per IP in the login window.
        "VERIFY_MAX_UNKNOWN_PER_IP": int(os.environ.get("VERIFY_MAX_UNKNOWN_PER_IP", "30")),
        "INVITATION_DAYS": 14,
        # « Pour aller plus loin »: the largest reference document accepted (stored under
        # DOCUMENTS_DIR, above).
        "REFERENCE_DOCUMENT_MAX_BYTES": int(
            os.environ.get("REFERENCE_DOCUMENT_MAX_BYTES", str(4 * 1024 * 1024))
        ),
        # Convention signatures: first automatic reminder after N days, then every N hours.
        "CONVENTION_REMINDER_DAYS": int(os.environ.get("CONVENTION_REMINDER_DAYS", "3")),
        "CONVENTION_REMINDER_INTERVAL_HOURS": int(
            os.environ.get("CONVENTION_REMINDER_INTERVAL_HOURS", "48")
        ),
        "PASSWORD_RESET_DAYS": 14,
        # Changing one's login address: the link mailed to the new address is valid this
        # many hours; at most this many requests per hour (each one mails an address).
        "EMAIL_CHANGE_HOURS": int(os.environ.get("EMAIL_CHANGE_HOURS", "24")),
        "EMAIL_CHANGE_MAX_PER_HOUR": int(os.environ.get("EMAIL_CHANGE_MAX_PER_HOUR", "3")),
        # Immersions: remind the organisme this many days before an unprepared one starts;
        # a debrief not held this many days after an immersion ends is overdue.
        "IMMERSION_REMINDER_DAYS": int(os.environ.get("IMMERSION_REMINDER_DAYS", "5")),
        "DEBRIEF_OVERDUE_DAYS": int(os.environ.get("DEBRIEF_OVERDUE_DAYS", "7")),
        # The Région's people get this many e-mails a day one by one; the others wait for
        # the daily digest (``flask notifications digest``).
        "REFERENT_DIGEST_THRESHOLD": int(os.environ.get("REFERENT_DIGEST_THRESHOLD", "5")),
        # Employment follow-up: a milestone is « à faire » from its due date minus the window,
        # « en retard » after the due date plus the window; « sans nouvelles » needs this many
        # recorded contact attempts; an overdue reminder is repeated after the cooldown; a
        # +6 months follow-up still missing this many days after its due date goes to the
        # territorial referent (once).
        "FOLLOWUP_WINDOW_DAYS": int(os.environ.get("FOLLOWUP_WINDOW_DAYS", "15")),
        "FOLLOWUP_ATTEMPTS_BEFORE_NO_NEWS": int(
            os.environ.get("FOLLOWUP_ATTEMPTS_BEFORE_NO_NEWS", "3")
        ),
        "FOLLOWUP_REMINDER_COOLDOWN_DAYS": int(
            os.environ.get("FOLLOWUP_REMINDER_COOLDOWN_DAYS", "7")
        ),
        "FOLLOWUP_ESCALATION_DAYS": int(os.environ.get("FOLLOWUP_ESCALATION_DAYS", "30")),
        # The public pages every French public site has (portal/public/): who publishes the
        # portal, who directs the publication, who hosts it, whom to write to, and the state
        # of compliance of the accessibility statement (RGAA 4.1): « full », « partial » or
        # « none ». « partial » until an audit says otherwise.
        "SITE_PUBLISHER": os.environ.get(
            "SITE_PUBLISHER",
            "Région Centre-Val de Loire, 9 rue Saint-Pierre-Lentin, CS 94117, "
            "45041 Orléans Cedex 1",
        ),
        "SITE_DIRECTOR": os.environ.get(
            "SITE_DIRECTOR", "le président du Conseil régional du Centre-Val de Loire"
        ),
        "SITE_HOST": os.environ.get(
            "SITE_HOST", "à préciser par l'exploitant (nom, adresse et téléphone de l'hébergeur)"
        ),
        "SITE_CONTACT_EMAIL": os.environ.get("SITE_CONTACT_EMAIL", "contact@portail-defi.test"),
        "SITE_DPO_EMAIL": os.environ.get("SITE_DPO_EMAIL", "dpo@portail-defi.test"),
        # Retention of personal data (portal/privacy/retention.py, ``flask retention apply``):
        # a trainee's data is kept until the +6 months follow-up (or, for a candidate never
        # trained, the last change of their candidacy) plus RETENTION_TRAINEE_MONTHS, then
        # anonymised; access logs (trainees' access log, sessions, failed logins), sent
        # e-mails and the audit log's IP and user agent are kept ACCESS_LOG_RETENTION_MONTHS
        # (the CNIL recommends 6 months to 1 year), then deleted or pseudonymised.
        "RETENTION_TRAINEE_MONTHS": int(os.environ.get("RETENTION_TRAINEE_MONTHS", "24")),
        "ACCESS_LOG_RETENTION_MONTHS": int(os.environ.get("ACCESS_LOG_RETENTION_MONTHS", "12")),
        # How long personal data is kept, as the « Données personnelles » page says it.
        "SITE_DATA_RETENTION": os.environ.get(
            "SITE_DATA_RETENTION",
            "les données des stagiaires et des candidat·e·s sont conservées pendant "
            "l'opération et son suivi dans l'emploi (jusqu'à six mois après la sortie de "
            "formation), puis archivées avec l'opération le temps du contrôle de son "
            "financement par la Région ; les comptes, tant que leur titulaire participe au "
            "dispositif.",
        ),
        # The day the accessibility statement was established (or last updated), ISO format.
        "ACCESSIBILITY_STATEMENT_DATE": date.fromisoformat(
            os.environ.get("ACCESSIBILITY_STATEMENT_DATE", "2026-12-06")
        ),
        "ACCESSIBILITY_COMPLIANCE": _choice(
            "ACCESSIBILITY_COMPLIANCE", ("full", "partial", "none"), "partial"
        ),
        "STEERING_ACTION_REMINDER_DAYS": int(os.environ.get("STEERING_ACTION_REMINDER_DAYS", "3")),
        "STEERING_ACTION_REMINDER_COOLDOWN_DAYS": int(
            os.environ.get("STEERING_ACTION_REMINDER_COOLDOWN_DAYS", "7")
        ),
    }
