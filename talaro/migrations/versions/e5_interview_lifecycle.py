"""interview lifecycle: completed and no-show statuses, why and when an interview was cancelled

Revision ID: e5_interview_lifecycle
Revises: d4_account_locks
Create Date: 2026-12-09 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5_interview_lifecycle"
down_revision = "d4_account_locks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(), nullable=True))
    # Interviews that already have feedback took place: they are completed now.
    op.execute(
        "UPDATE interviews SET status = 'completed' WHERE status = 'scheduled' "
        "AND id IN (SELECT interview_id FROM feedback)"
    )


def downgrade():
    op.execute("UPDATE interviews SET status = 'scheduled' WHERE status = 'completed'")
    op.execute("UPDATE interviews SET status = 'cancelled' WHERE status = 'no_show'")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("cancel_reason")
