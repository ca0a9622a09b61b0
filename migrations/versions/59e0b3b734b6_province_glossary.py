"""province glossary: one row per concept, its names in Vietnamese, English and Chinese

Schema only. The rows come from seed_data/glossary.csv through `flask --app app seed` (which
`make run` runs after `db upgrade`), adding only the concepts that are missing: a migration that
copied the file would freeze it as it was on the day the migration was written. A deleted concept
keeps its row (deleted_at), so that seeding again does not bring it back.

Revision ID: 59e0b3b734b6
Revises: e95883695268
Create Date: 2026-11-29 20:21:13.302057
"""
import sqlalchemy as sa
from alembic import op

revision = "59e0b3b734b6"
down_revision = "e95883695268"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "glossary_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concept", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("vi", sa.Text(), nullable=False),
        sa.Column("en", sa.Text(), nullable=False),
        sa.Column("zh", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_glossary_terms_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_glossary_terms")),
        sa.UniqueConstraint("concept", name=op.f("uq_glossary_terms_concept")),
    )
    with op.batch_alter_table("glossary_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_terms_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_terms_updated_at"), ["updated_at"], unique=False)


def downgrade():
    with op.batch_alter_table("glossary_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_terms_updated_at"))
        batch_op.drop_index(batch_op.f("ix_glossary_terms_kind"))
    op.drop_table("glossary_terms")
