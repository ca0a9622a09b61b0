"""Loading reference and demo data from seed_data/. Running it again changes nothing."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from extensions import db
from matching.glossary import read_glossary_csv
from models import GlossaryTerm, Place, Sector, Status, User
from models.people import utcnow
from services import glossary, languages
from services.submission_types import TYPES

SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"
DATE_FIELDS = ("deadline", "proposal_deadline")


def _read(name: str, seed_dir: Path) -> dict | list:
    return json.loads((seed_dir / name).read_text(encoding="utf-8"))


def load_reference(seed_dir: Path = SEED_DIR) -> dict[str, int]:
    """Insert the sectors, places and glossary concepts that are missing; admins' edits to existing
    ones are kept (and a glossary concept an admin deleted stays deleted)."""
    added = {"sectors": 0, "places": 0, "glossary": 0}
    known = set(db.session.scalars(sa.select(Sector.code)))
    for row in _read("sectors.json", seed_dir):
        if row["code"] not in known:
            db.session.add(Sector(code=row["code"], name_vi=row["name_vi"], name_en=row["name_en"]))
            added["sectors"] += 1
    known = set(db.session.scalars(sa.select(Place.code)))
    for row in _read("places.json", seed_dir)["units"]:
        if row["code"] not in known:
            db.session.add(Place(code=row["code"], name=row["name"], kind=row["kind"],
                                 former_district=row["former_district"]))
            added["places"] += 1
    known = set(db.session.scalars(sa.select(GlossaryTerm.concept)))  # deleted ones included
    for entry in read_glossary_csv(seed_dir / "glossary.csv"):
        if entry.concept not in known:
            db.session.add(GlossaryTerm(**glossary.stored_values(entry)))
            added["glossary"] += 1
    db.session.commit()
    return added


def load_demo(seed_dir: Path = SEED_DIR) -> dict[str, int]:
    """Insert the demo accounts and submissions that are missing (matched by e-mail, and by owner and title)."""
    from models.people import hash_password
    from services import accounts
    demo = _read("demo.json", seed_dir)
    added = {"users": 0, "ideas": 0, "needs": 0, "orders": 0}
    hashes: dict[str, str] = {}  # the demo accounts share their password: hashed once
    for row in demo["users"]:
        if accounts.find_by_email(row["email"]) is None:
            if row["password"] not in hashes:
                hashes[row["password"]] = hash_password(row["password"])
            password_hash = hashes[row["password"]]
            accounts.create_user(row["email"], row["password"], row["full_name"], row["role"],
                                 password_hash=password_hash,
                                 innovator_type=row.get("innovator_type"), organisation=row.get("organisation"),
                                 place_code=row.get("place"), phone=row.get("phone"),
                                 preferred_language=row.get("preferred_language", "vi"))
            added["users"] += 1
    owners = {u.email: u for u in db.session.scalars(sa.select(User))}
    sectors = {s.code: s for s in db.session.scalars(sa.select(Sector))}
    places = {p.code: p for p in db.session.scalars(sa.select(Place))}
    for kind in TYPES:
        slug, model = kind.slug, kind.model
        existing = set(db.session.execute(sa.select(model.owner_id, model.title)))
        for row in demo[slug]:
            row = dict(row)
            owner = owners[row.pop("owner")]
            if (owner.id, row["title"]) in existing:
                continue
            item = model(owner=owner, sectors=[sectors[c] for c in row.pop("sectors", [])],
                         place=places.get(row.pop("place", None) or ""))
            for key, value in row.items():
                setattr(item, key, date.fromisoformat(value) if key in DATE_FIELDS and value else value)
            item.language = languages.resolve(kind, row)  # a row may say "auto" or nothing
            if item.status == Status.PUBLISHED.value:
                item.published_at = utcnow()
            db.session.add(item)
            added[slug] += 1
    db.session.commit()
    return added


def demo_logins(seed_dir: Path = SEED_DIR) -> list[tuple[str, str, str]]:
    """(role, e-mail, password) of the first demo account of each role, for the start-up banner."""
    seen, logins = set(), []
    for row in _read("demo.json", seed_dir)["users"]:
        if row["role"] not in seen:
            seen.add(row["role"])
            logins.append((row["role"], row["email"], row["password"]))
    return logins
