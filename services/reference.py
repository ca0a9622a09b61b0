"""Editing the reference data: places and sectors."""
import sqlalchemy as sa

from extensions import db
from models import Place, Sector


def places() -> list[Place]:
    return list(db.session.scalars(sa.select(Place).order_by(Place.former_district, Place.name)))


def sectors() -> list[Sector]:
    return list(db.session.scalars(sa.select(Sector).order_by(Sector.id)))


def code_taken(code: str, except_id: int | None = None) -> bool:
    stmt = sa.select(Place.id).where(Place.code == code)
    if except_id:
        stmt = stmt.where(Place.id != except_id)
    return db.session.scalar(stmt) is not None


def save_place(place: Place | None, **fields) -> Place:
    place = place or Place()
    for key, value in fields.items():
        setattr(place, key, value.strip() if isinstance(value, str) else value)
    db.session.add(place)
    db.session.commit()
    return place


def save_sector(sector: Sector, name_vi: str, name_en: str) -> None:
    sector.name_vi, sector.name_en = name_vi.strip(), name_en.strip()
    db.session.commit()
