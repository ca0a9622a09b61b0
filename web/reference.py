"""Choices for select fields, read from the reference data that admins edit."""
import sqlalchemy as sa
from flask_babel import get_locale, lazy_gettext as _l

from extensions import db
from models import Place, Sector


def sector_choices() -> list[tuple[str, str]]:
    locale = str(get_locale())
    return [(s.code, s.name(locale)) for s in db.session.scalars(sa.select(Sector).order_by(Sector.id))]


def place_choices(blank=True) -> list[tuple[str, str]]:
    places = db.session.scalars(sa.select(Place).order_by(Place.former_district, Place.name))
    head = [("", _l("— Commune or ward —"))] if blank else []
    return head + [(p.code, p.label) for p in places]


def sector_name(code: str) -> str:
    sector = db.session.scalar(sa.select(Sector).where(Sector.code == code))
    return sector.name(str(get_locale())) if sector else code
