"""Reference data that admins edit: sectors and the province's communes and wards."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


class Sector(db.Model):
    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


class Place(db.Model):
    """A commune (xã) or ward (phường); since 2025 there is no district level.

    `former_district` (huyện cũ) is kept because people still use it in speech,
    addresses, filters and reports.
    """

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(10))  # "xa" | "phuong"
    former_district: Mapped[str] = mapped_column(sa.String(60), index=True)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.former_district})"
