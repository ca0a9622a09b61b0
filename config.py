"""Configuration from environment variables, with safe defaults for a first run on a laptop."""
from __future__ import annotations

import ipaddress
import os
from datetime import datetime, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_SECRET = "dev-only-not-secret"
VERSION = "0.2.0"


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL; plain postgres URLs use the psycopg 3 driver we ship."""
    if not raw:
        return f"sqlite:///{ROOT / 'instance' / 'app.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def trusted_proxies(raw: str | None) -> list[str]:
    """TRUSTED_PROXIES: addresses or networks ("127.0.0.1, 10.0.0.0/8") whose X-Forwarded-For and
    X-Forwarded-Proto are believed. A value that is not an address stops the app at start."""
    return [str(ipaddress.ip_network(part.strip(), strict=False))
            for part in (raw or "").replace(";", ",").split(",") if part.strip()]


def digest_time(raw: str | None) -> time:
    """DIGEST_TIME: the wall-clock time ("07:00", "7:30"; 24-hour) in the province's time zone at
    which the job worker sends the daily digest. A value that is not such a time stops the app at start."""
    try:
        return datetime.strptime((raw or "07:00").strip(), "%H:%M").time()
    except ValueError:
        raise ValueError(f"DIGEST_TIME must be a time such as 07:00, not {raw!r}") from None


def from_env(env=os.environ) -> dict:
    """Every setting the app reads, documented in the README."""
    return {
        "APP_ENV": env.get("APP_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET),
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL")),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ["vi", "en"],
        "BOOTSTRAP_SERVE_LOCAL": True,
        # Requests are capped well above the form field limits, so that a 1 MB paste
        # reaches validation and gets a field message instead of a bare 413.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 4 * 1024 * 1024)),
        "MAX_FORM_MEMORY_SIZE": int(env.get("MAX_FORM_MEMORY_SIZE", 4 * 1024 * 1024)),
        "PAGE_SIZE": int(env.get("PAGE_SIZE", 20)),
        "MATCHING_BACKEND": env.get("MATCHING_BACKEND", "sentence-transformers"),
        "MATCHING_MODEL": env.get("MATCHING_MODEL") or None,
        "MODEL_DIR": env.get("MODEL_DIR", str(ROOT / ".cache" / "models")),
        "MATCHING_PRELOAD": env.get("MATCHING_PRELOAD", "0") == "1",
        # seconds MATCHING_PRELOAD waits, once the index is ready, before loading the model: loading
        # PyTorch beside a worker's first pages (which need the index only) delayed them by ~2 s
        "MATCHING_MODEL_PRELOAD_DELAY": float(env.get("MATCHING_MODEL_PRELOAD_DELAY", 10)),
        # the match index saved for the next process to start from (services/index_snapshot.py); "": off
        "MATCH_INDEX_SNAPSHOT_DIR": env.get("MATCH_INDEX_SNAPSHOT_DIR", str(ROOT / "instance" / "match-index")),
        # CPU threads the model uses per text (0: all cores). One: a web process embeds one short
        # text at a time (a search, a draft), and threads that wait for busy cores cost far more
        # than they gain (docs/search.md: 125 ms with one thread, 900 ms with two, at load 7 on 2 cores)
        "MATCHING_THREADS": int(env.get("MATCHING_THREADS", 1)),
        # fitted second-stage rankers (flask --app app fit-ranker); the shipped one is in seed_data/ranker
        "RANKER_DIR": env.get("RANKER_DIR", str(ROOT / "instance" / "ranker")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("APP_ENV") == "production",
        "VERSION": VERSION,
        # E-mail goes through SMTP when MAIL_SERVER is set; otherwise into OUTBOX_DIR as .eml files.
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", 587)),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "1") == "1",
        "MAIL_SENDER": env.get("MAIL_SENDER", "Kết nối ĐMST Lào Cai <no-reply@localhost>"),
        "OUTBOX_DIR": env.get("OUTBOX_DIR", str(ROOT / "outbox")),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        # Redis down: the throttle counts in this process meanwhile (logged) rather than failing
        # sign-in and every API call; it goes back to Redis once Redis answers again.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        # seconds between the worker's maintenance runs (stalled jobs retried, lost work queued again)
        "JOBS_MAINTENANCE_INTERVAL": int(env.get("JOBS_MAINTENANCE_INTERVAL", 60)),
        # when the job worker sends the daily digest, on the province's clock (BABEL_DEFAULT_TIMEZONE)
        "DIGEST_TIME": digest_time(env.get("DIGEST_TIME")),
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") == "1",
        # Throttles (Flask-Limiter syntax). Sign-in counts failed attempts only, per client address
        # and per account; registration counts accounts created per address; reset counts requests.
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute; 50 per hour"),
        "LOGIN_ACCOUNT_RATE_LIMIT": env.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per 15 minutes; 50 per day"),
        "REGISTRATION_RATE_LIMIT": env.get("REGISTRATION_RATE_LIMIT", "10 per hour; 30 per day"),
        "PASSWORD_RESET_RATE_LIMIT": env.get("PASSWORD_RESET_RATE_LIMIT", "5 per hour"),
        "PASSWORD_RESET_ACCOUNT_RATE_LIMIT": env.get("PASSWORD_RESET_ACCOUNT_RATE_LIMIT", "3 per hour"),
        # Client addresses come from X-Forwarded-For only when the peer is one of these (the reverse proxy).
        "TRUSTED_PROXIES": trusted_proxies(env.get("TRUSTED_PROXIES")),
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", 3600)),
        # The site's address in e-mailed links (password reset, notifications), e.g. https://ketnoi.laocai.gov.vn
        "PUBLIC_URL": env.get("PUBLIC_URL") or None,
    }
