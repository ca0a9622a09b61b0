"""resolve the language of rows stored as "auto" (or anything but vi/en/zh)

Revision ID: f4a7c2d91e3b
Revises: e95883695268
Create Date: 2026-11-29 20:45:00

Data only. The engine debiases each text with its language's mean vector, so a row whose
language is not vi, en or zh was matched as a language of its own. Each such row gets the
language detected from its text fields, with the province's place names blanked
(matching.text.detect_language). Not reversible: the old value meant "unknown".
"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from matching.glossary import read_glossary_csv
from matching.text import detect_language

# revision identifiers, used by Alembic.
revision = "f4a7c2d91e3b"
down_revision = "e95883695268"
branch_labels = None
depends_on = None

# The text fields of each table as they are at this revision (services/submission_types.py).
TEXT_FIELDS = {
    "ideas": ("title", "summary", "description", "keywords"),
    "needs": ("title", "problem", "desired_outcome"),
    "orders": ("title", "objectives", "main_content", "expected_products"),
}
SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"


def _names(bind) -> set[str]:
    names = {n for row in bind.execute(sa.text("SELECT name, former_district FROM places")) for n in row if n}
    if (SEED_DIR / "glossary.csv").exists():
        names |= {name for e in read_glossary_csv(SEED_DIR / "glossary.csv") if e.kind == "place"
                  for lang, name in e.names() if lang != "zh"}
    if (SEED_DIR / "proper_names.txt").exists():
        names |= {line.strip() for line in (SEED_DIR / "proper_names.txt").read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#")}
    return names


def upgrade():
    bind = op.get_bind()
    names = None
    for table, fields in TEXT_FIELDS.items():
        rows = bind.execute(sa.text(f"SELECT id, language, {', '.join(fields)} FROM {table} "
                                    "WHERE language IS NULL OR language NOT IN ('vi', 'en', 'zh')")).all()
        for row in rows:
            names = _names(bind) if names is None else names
            text = "\n".join(str(v or "") for v in row[2:])
            lang = detect_language(text, names=names)
            bind.execute(sa.text(f"UPDATE {table} SET language = :lang WHERE id = :id"),
                         {"lang": lang, "id": row[0]})


def downgrade():
    pass  # "auto" meant "not known yet"; the resolved languages stay
