"""Mock interviews: one private interview per member at a time, kept across restarts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mock_interviews",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("channel_id", BIG_ID, nullable=False),
        sa.Column("role", sa.String(length=24), nullable=True),
        sa.Column("level", sa.String(length=12), nullable=True),
        sa.Column("question_ids", sa.JSON(), nullable=False),
        sa.Column("step", sa.SmallInteger(), nullable=False),
        sa.Column("follow_up", sa.SmallInteger(), nullable=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("active_slot", sa.SmallInteger(), nullable=True),
        sa.Column("conversation", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_mock_interviews_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"],
                                name=op.f("fk_mock_interviews_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_interviews")),
        sa.UniqueConstraint("user_id", "active_slot",
                            name=op.f("uq_mock_interviews_user_id_active_slot")),
    )
    op.create_index("ix_mock_interviews_state_updated_at", "mock_interviews",
                    ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_mock_interviews_state_updated_at", table_name="mock_interviews")
    op.drop_table("mock_interviews")
