"""audit checkpoints: where each process's security chain stood, and retention notes

Revision ID: c3_audit_checkpoints
Revises: b2_sessions_feedback
Create Date: 2026-12-01 17:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3_audit_checkpoints"
down_revision = "b2_sessions_feedback"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("time_unix_nano", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=1024), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_checkpoints_instance"), ["instance"], unique=False
        )


def downgrade():
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoints_instance"))
    op.drop_table("audit_checkpoints")
