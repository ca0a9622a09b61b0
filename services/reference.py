"""The reference data that admins edit, places and sectors: reading it (also as the choices of
select fields) and editing it."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from extensions import db
from models import Place, Sector, User
from services import audit, collation, search


def places() -> list[Place]:
    """Every place, by former district then name, in the page's alphabetical order."""
    return collation.by_name(db.session.scalars(sa.select(Place)), lambda p: (p.former_district, p.name))


def sectors() -> list[Sector]:
    """Every sector, by its name in the page's language and alphabetical order."""
    language = collation.current_language()
    return collation.by_name(db.session.scalars(sa.select(Sector)), lambda s: s.name(language))


def sector_choices() -> list[tuple[str, str]]:
    """(code, name in the current language) of every sector, for select fields."""
    language = collation.current_language()
    return [(s.code, s.name(language)) for s in sectors()]


def former_districts() -> list[str]:
    """The former districts (huyện cũ) the places are grouped by, in the page's alphabetical order."""
    return collation.by_name(db.session.scalars(sa.select(Place.former_district).distinct()))


def place_choices(blank: bool = True) -> list[tuple[str, str]]:
    """(code, label) of every place, for select fields; first a "choose one" entry unless blank=False."""
    head = [("", _l("— Commune or ward —"))] if blank else []
    return head + [(p.code, p.label) for p in places()]


def code_taken(code: str, except_id: int | None = None) -> bool:
    stmt = sa.select(Place.id).where(Place.code == code)
    if except_id:
        stmt = stmt.where(Place.id != except_id)
    return db.session.scalar(stmt) is not None


def save_place(place: Place | None, actor: User | None = None, **fields) -> Place:
    """Create or change a place; the change is audited."""
    before = _fields(place, fields) if place else None
    place = place or Place()
    for key, value in fields.items():
        setattr(place, key, value.strip() if isinstance(value, str) else value)
    db.session.add(place)
    db.session.flush()
    after = _fields(place, fields)
    if before != after:
        audit.record(actor, "place.update" if before else "place.create", "place", place.id, before, after)
        if before:  # submissions are found by their place's name: their search words follow it
            search.rebuild_documents(place_id=place.id)
    db.session.commit()
    return place


def save_sector(sector: Sector, name_vi: str, name_en: str, actor: User | None = None) -> None:
    """Rename a sector; the change is audited."""
    before = {"name_vi": sector.name_vi, "name_en": sector.name_en}
    sector.name_vi, sector.name_en = name_vi.strip(), name_en.strip()
    after = {"name_vi": sector.name_vi, "name_en": sector.name_en}
    if before != after:
        audit.record(actor, "sector.update", "sector", sector.id, before, after)
    db.session.commit()


def _fields(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}
