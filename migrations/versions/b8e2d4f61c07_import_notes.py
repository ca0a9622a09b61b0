"""an import's notes: what the preview tells the uploader without refusing the file (columns
ignored, merged cells filled down)

Revision ID: b8e2d4f61c07
Revises: d5e8a1c4b7f3
Create Date: 2026-11-30 10:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b8e2d4f61c07"
down_revision = "d5e8a1c4b7f3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes_json", sa.Text(), server_default="[]", nullable=False))


def downgrade():
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_column("notes_json")
