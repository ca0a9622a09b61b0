"""an idea's author as an imported file names them, when that is not its account's name

Revision ID: c4f9a2e7d813
Revises: b8e2d4f61c07
Create Date: 2026-11-30 10:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4f9a2e7d813"
down_revision = "b8e2d4f61c07"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_name", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_column("author_name")
