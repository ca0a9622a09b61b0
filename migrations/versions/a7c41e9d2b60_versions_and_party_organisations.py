"""versioned rows (one of two people acting at once wins), the parties' organisations on each
proposal, when an import last moved

Revision ID: a7c41e9d2b60
Revises: 954ab1933c32
Create Date: 2026-11-30 03:15:00

"""
import json
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c41e9d2b60"
down_revision = "954ab1933c32"
branch_labels = None
depends_on = None

VERSIONED = ("match_proposals", "matching_rounds", "import_jobs", "ideas", "needs", "orders")


def _key(value):
    # services.proposals.organisation_key as it was when this migration was written
    text = unicodedata.normalize("NFC", value or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFC", " ".join(text.casefold().split()))


def upgrade():
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("match_proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("party_organisations", sa.Text(), server_default="[]", nullable=False))
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))

    # Backfill: the parties' organisations as they are now, the best knowledge of "when it was made".
    conn = op.get_bind()
    rows = conn.execute(sa.text("""
        SELECT p.id, i.organisation, iu.organisation, n.organisation, nu.organisation, o.ordering_body
        FROM match_proposals p
        JOIN ideas i ON i.id = p.idea_id JOIN users iu ON iu.id = i.owner_id
        LEFT JOIN needs n ON n.id = p.need_id LEFT JOIN users nu ON nu.id = n.owner_id
        LEFT JOIN orders o ON o.id = p.order_id""")).all()
    for proposal_id, *names in rows:
        keys = sorted({k for k in map(_key, names) if k})
        conn.execute(sa.text("UPDATE match_proposals SET party_organisations = :orgs WHERE id = :id"),
                     {"orgs": json.dumps(keys, ensure_ascii=False), "id": proposal_id})
    conn.execute(sa.text("UPDATE import_jobs SET updated_at = COALESCE(finished_at, created_at)"))


def downgrade():
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("match_proposals", schema=None) as batch_op:
        batch_op.drop_column("party_organisations")
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
