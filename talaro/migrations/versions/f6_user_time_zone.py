"""user time zone: the IANA zone each user's pages show times in

Revision ID: f6_user_time_zone
Revises: e5_interview_lifecycle
Create Date: 2026-12-10 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f6_user_time_zone"
down_revision = "e5_interview_lifecycle"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: existing users have none until they choose one (the pages use UTC).
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
