"""Recording changes in the append-only audit log. Call record() inside the change's transaction."""
from __future__ import annotations

import json
from typing import Any

from extensions import db
from models import AuditEntry, User


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
