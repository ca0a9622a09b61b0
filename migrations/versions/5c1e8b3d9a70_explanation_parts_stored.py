"""explanation parts stored: each published text's sentences and key-term candidates

Computed once by the job that embeds a published text (pyvi, jieba and CC-CEDICT run there), read
by every process's pages, which then explain a match without segmenting words themselves.

Revision ID: 5c1e8b3d9a70
Revises: 3b9d6e2f8a41
Create Date: 2026-11-30 16:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1e8b3d9a70"
down_revision = "3b9d6e2f8a41"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "explanation_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parts_key", sa.String(length=64), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_explanation_parts")),
        sa.UniqueConstraint("parts_key", name=op.f("uq_explanation_parts_parts_key")),
    )


def downgrade():
    op.drop_table("explanation_parts")
