"""merge: province glossary and resolved languages

Revision ID: 01ee914b5b2f
Revises: 59e0b3b734b6, f4a7c2d91e3b
Create Date: 2026-11-29 20:57:09.826059

"""


# revision identifiers, used by Alembic.
revision = '01ee914b5b2f'
down_revision = ('59e0b3b734b6', 'f4a7c2d91e3b')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
