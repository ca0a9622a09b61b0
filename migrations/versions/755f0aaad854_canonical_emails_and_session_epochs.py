"""canonical e-mail addresses; session epochs

Revision ID: 755f0aaad854
Revises: 01ee914b5b2f
Create Date: 2026-12-01 10:00:00

Every address is rewritten in its one spelling (models.people.canonical_email: NFC, the IDNA
domain in Unicode, lower case), which the unique index on users.email then holds to. Two accounts
whose addresses meet in one spelling (the same address typed in NFD and NFC, or with a punycode
domain) are not merged automatically: whose ideas belong to whom is for an administrator to
decide. The account kept is the active one, else the oldest; each other one is deactivated and
its address marked "<address>#duplicate-<id>" (not an address anyone can register or sign in
with). Each change is in the audit log (user.email_canonical, user.email_duplicate) and printed.

users.session_epoch: part of each session's identity; signing out and changing the password
raise it, so every older session cookie stops working.
"""
import json
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from models.people import canonical_email

# revision identifiers, used by Alembic.
revision = "755f0aaad854"
down_revision = "01ee914b5b2f"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _audit(bind, action: str, user_id: int, before: dict, after: dict) -> None:
    bind.execute(sa.text("INSERT INTO audit_entries (created_at, actor_id, action, entity_type, entity_id, before, after) "
                         "VALUES (:at, NULL, :action, 'user', :id, :before, :after)"),
                 {"at": datetime.now(UTC).replace(tzinfo=None), "action": action, "id": user_id,
                  "before": json.dumps(before, ensure_ascii=False, sort_keys=True),
                  "after": json.dumps(after, ensure_ascii=False, sort_keys=True)})


def canonicalise(bind) -> list[tuple[int, int]]:
    """Rewrite every address canonically; returns (duplicate id, kept id) for each conflict."""
    rows = bind.execute(sa.text("SELECT id, email, active FROM users ORDER BY id")).all()
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(canonical_email(row.email), []).append(row)
    conflicts, renames = [], []
    for canonical, members in groups.items():
        kept, *others = sorted(members, key=lambda r: (not r.active, r.id))
        for other in others:  # first, so that the kept account can take the address
            marked = f"{canonical[:220]}#duplicate-{other.id}"
            bind.execute(sa.text("UPDATE users SET email = :email, active = :off WHERE id = :id"),
                         {"email": marked, "off": False, "id": other.id})
            _audit(bind, "user.email_duplicate", other.id, {"email": other.email, "active": bool(other.active)},
                   {"email": marked, "active": False, "duplicate_of": kept.id})
            log.warning("users %s and %s have one address, %s: kept %s, deactivated %s as %s",
                        kept.id, other.id, canonical, kept.id, other.id, marked)
            conflicts.append((other.id, kept.id))
        if kept.email != canonical:
            renames.append((kept, canonical))
    for kept, canonical in renames:
        bind.execute(sa.text("UPDATE users SET email = :email WHERE id = :id"), {"email": canonical, "id": kept.id})
        _audit(bind, "user.email_canonical", kept.id, {"email": kept.email}, {"email": canonical})
    return conflicts


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))
    canonicalise(op.get_bind())


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
    # the addresses stay in their canonical spelling: the older code lower-cased them too
