"""Streak freezes (earned every 7 days of a streak, spent on a missed daily question) and the
share of a channel's regulars that makes a day count for its group streak

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("streaks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("freezes", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("freezes_spent", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("frozen_on", sa.Date(), nullable=True))
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_share", sa.Integer(), nullable=False,
                                      server_default="50"))


def downgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("group_share")
    with op.batch_alter_table("streaks", schema=None) as batch_op:
        batch_op.drop_column("frozen_on")
        batch_op.drop_column("freezes_spent")
        batch_op.drop_column("freezes")
