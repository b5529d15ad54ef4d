"""account locks: sign-in locks every worker sees, through a Redis outage and a restart

Revision ID: d4_account_locks
Revises: c3_audit_checkpoints
Create Date: 2026-12-02 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4_account_locks"
down_revision = "c3_audit_checkpoints"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_locks",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    with op.batch_alter_table("account_locks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_locks_locked_until"), ["locked_until"], unique=False
        )


def downgrade():
    with op.batch_alter_table("account_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_locks_locked_until"))
    op.drop_table("account_locks")
