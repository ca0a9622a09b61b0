"""Recording changes in the append-only audit log. Call record() inside the change's transaction."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from extensions import db
from models import AuditEntry, User
from models.people import canonical_email


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def record(actor: User | None, action: str, entity_type: str, entity_id: int | None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an entry to the session; it is committed with the change it describes (never alone)."""
    entry = AuditEntry(actor_id=actor.id if actor is not None and getattr(actor, "is_authenticated", True) else None,
                       action=action, entity_type=entity_type, entity_id=entity_id,
                       before=_dump(before), after=_dump(after))
    db.session.add(entry)
    return entry


def entries(entity_type: str = "", action: str = "", actor_email: str = "",
            since: datetime | None = None, until: datetime | None = None) -> sa.Select:
    """Audit entries, newest first, narrowed by entity type, action (a prefix such as "proposal"
    or an exact "proposal.approved"), the actor's e-mail and a time range [since, until) in UTC."""
    stmt = (sa.select(AuditEntry).options(joinedload(AuditEntry.actor))  # the list shows who acted
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()))
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if action:
        stmt = stmt.where(sa.or_(AuditEntry.action == action, AuditEntry.action.startswith(action + ".")))
    if actor_email:
        stmt = stmt.where(AuditEntry.actor.has(User.email == canonical_email(actor_email)))
    if since:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.created_at < until)
    return stmt


def entity_types() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)))


def values(entry: AuditEntry) -> tuple[dict, dict]:
    """The entry's before and after, decoded ({} when absent)."""
    return (json.loads(entry.before) if entry.before else {}), (json.loads(entry.after) if entry.after else {})


def changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field the entry mentions."""
    before, after = values(entry)
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key) or key == "state"]
