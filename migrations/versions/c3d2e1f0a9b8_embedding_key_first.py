"""embedding vectors: look up by text hash first

The unique key was (model_id, role, text_key): every row shares the first two, so a lookup of a
batch of hashes scanned the whole index whenever the planner's statistics were stale (e.g. right
after a bulk load). With the hash first the index is selective on its own.

Revision ID: c3d2e1f0a9b8
Revises: 7fba1a9f401e
Create Date: 2026-11-27 16:00:00
"""
from alembic import op

revision = "c3d2e1f0a9b8"
down_revision = "7fba1a9f401e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("embedding_vectors", schema=None) as batch_op:
        batch_op.drop_constraint("uq_embedding_vectors_key", type_="unique")
        batch_op.create_unique_constraint("uq_embedding_vectors_key", ["text_key", "model_id", "role"])


def downgrade():
    with op.batch_alter_table("embedding_vectors", schema=None) as batch_op:
        batch_op.drop_constraint("uq_embedding_vectors_key", type_="unique")
        batch_op.create_unique_constraint("uq_embedding_vectors_key", ["model_id", "role", "text_key"])
