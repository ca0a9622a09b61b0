"""outgoing e-mails kept until sent; a reviewer's decision note apart from the proposer's note

Revision ID: a7d3c9e1b5f2
Revises: 755f0aaad854
Create Date: 2026-11-30 10:00:00.000000

A decision used to write its note over the proposal's note, losing the innovator's (or the
proposing staff member's) own words. The audit log kept both: for every approval or rejection
whose entry shows the note changing, the note before goes back to `note` and the decision's to
`decision_note`, where the proposal still holds the decision's note.
"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7d3c9e1b5f2'
down_revision = '755f0aaad854'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outgoing_mails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_mails')),
    )
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_mails_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_mails_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_note', sa.Text(), nullable=True))
    _separate_notes()


def _separate_notes():
    conn = op.get_bind()
    entries = conn.execute(sa.text(
        "SELECT entity_id, before, after FROM audit_entries WHERE entity_type = 'proposal' "
        "AND action IN ('proposal.approved', 'proposal.rejected') ORDER BY id")).all()
    for proposal_id, before, after in entries:
        before, after = json.loads(before or "{}"), json.loads(after or "{}")
        if after.get("note") == before.get("note") or not after.get("note"):
            continue
        conn.execute(sa.text("UPDATE match_proposals SET note = :before, decision_note = :after "
                             "WHERE id = :id AND note = :after"),
                     {"before": before.get("note"), "after": after["note"], "id": proposal_id})


def downgrade():
    # one note again, as before: the decision's where there is one
    op.execute("UPDATE match_proposals SET note = decision_note WHERE decision_note IS NOT NULL")
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.drop_column('decision_note')
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mails_created_at'))
        batch_op.drop_index(batch_op.f('ix_outgoing_mails_status'))
    op.drop_table('outgoing_mails')
