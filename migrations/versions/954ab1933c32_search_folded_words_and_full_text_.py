"""search: folded words of every submission and the databases' full-text indexes over them

Each of ideas, needs and orders gets two columns of folded words (matching/search.py):
``search_public`` (title and place: what anyone may find) and ``search_full`` (every searched
field), backfilled here for existing rows; services/search.py keeps them current on every flush.
The index over them is each database's own:

- PostgreSQL: GIN indexes on ``to_tsvector('simple', ...)`` (the words are already folded, so
  the 'simple' configuration, no stemming and no unaccent, gives the same words as SQLite).
- SQLite: an FTS5 table ``<table>_search`` with the two columns as external content, kept in
  step by triggers on the table (so raw inserts, a restore and bulk loads are indexed too).

Note for later migrations on SQLite: a batch migration that recreates ideas, needs or orders
drops these triggers; recreate them with ``sqlite_search_triggers(table)`` from this module.

Revision ID: 954ab1933c32
Revises: a7d3c9e1b5f2
Create Date: 2026-12-02 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from matching.search import document

# revision identifiers, used by Alembic.
revision = '954ab1933c32'
down_revision = 'a7d3c9e1b5f2'
branch_labels = None
depends_on = None

# The searched fields as of this revision (services/submission_types.py: text fields, then the
# extra fields; a need's organisation falls back to its author's).
FIELDS = {
    "ideas": ("summary", "description", "keywords", "organisation", "team", "event"),
    "needs": ("problem", "desired_outcome", "organisation"),
    "orders": ("objectives", "main_content", "expected_products", "ordering_body", "application_place"),
}
BATCH = 500


def sqlite_search_triggers(table: str) -> list[str]:
    """The statements that keep ``<table>_search`` (FTS5, external content) in step with ``table``."""
    fts = f"{table}_search"
    insert = f"INSERT INTO {fts}(rowid, search_public, search_full) VALUES (new.id, new.search_public, new.search_full);"
    delete = (f"INSERT INTO {fts}({fts}, rowid, search_public, search_full) "
              f"VALUES ('delete', old.id, old.search_public, old.search_full);")
    return [
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_public, search_full ON {table} "
        f"BEGIN {delete} {insert} END",
    ]


def _backfill(conn, table: str) -> None:
    places = {row.id: (row.name, row.former_district)
              for row in conn.execute(sa.text("SELECT id, name, former_district FROM places"))}
    owners = {row.id: row.organisation for row in conn.execute(sa.text("SELECT id, organisation FROM users"))}
    columns = ", ".join(("id", "title", "place_id", "owner_id") + FIELDS[table])
    rows = conn.execute(sa.text(f"SELECT {columns} FROM {table} ORDER BY id")).mappings().all()
    update = sa.text(f"UPDATE {table} SET search_public = :public, search_full = :full WHERE id = :id")
    values = []
    for row in rows:
        place = places.get(row["place_id"], ())
        fields = [row[f] for f in FIELDS[table]]
        if table == "needs" and not row["organisation"]:
            fields[-1] = owners.get(row["owner_id"])
        values.append({"id": row["id"], "public": document([row["title"], *place]),
                       "full": document([row["title"], *fields, *place])})
    for start in range(0, len(values), BATCH):
        conn.execute(update, values[start:start + BATCH])


def upgrade():
    conn = op.get_bind()
    for table in FIELDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_public', sa.Text(), server_default='', nullable=False))
            batch_op.add_column(sa.Column('search_full', sa.Text(), server_default='', nullable=False))
        _backfill(conn, table)
        if conn.dialect.name == "postgresql":
            op.execute(f"CREATE INDEX ix_{table}_search_full ON {table} USING gin (to_tsvector('simple', search_full))")
            op.execute(f"CREATE INDEX ix_{table}_search_public ON {table} "
                       f"USING gin (to_tsvector('simple', search_public))")
        elif conn.dialect.name == "sqlite":
            op.execute(f"CREATE VIRTUAL TABLE {table}_search USING fts5(search_public, search_full, "
                       f"content='{table}', content_rowid='id', tokenize='unicode61 remove_diacritics 0')")
            op.execute(f"INSERT INTO {table}_search({table}_search) VALUES ('rebuild')")
            for statement in sqlite_search_triggers(table):
                op.execute(statement)


def downgrade():
    conn = op.get_bind()
    for table in FIELDS:
        if conn.dialect.name == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_full")
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_public")
        elif conn.dialect.name == "sqlite":
            for suffix in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_search_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_search")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('search_full')
            batch_op.drop_column('search_public')
