"""Scheduling: claim leases on posts, a table for digests and reminders, schedule options

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grace_minutes", sa.Integer(), server_default="360",
                                      nullable=False))
        batch_op.add_column(sa.Column("reveal_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("digest_weekday", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("remind_before_minutes", sa.Integer(), nullable=True))
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.SmallInteger(), server_default="0",
                                      nullable=False))
    op.create_table(
        "sends",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("channel_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("message_ref", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"],
                                name=op.f("fk_sends_channel_id_channels"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sends")),
        sa.UniqueConstraint("channel_id", "kind", "key",
                            name=op.f("uq_sends_channel_id_kind_key")),
    )


def downgrade() -> None:
    op.drop_table("sends")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("lease_until")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("remind_before_minutes")
        batch_op.drop_column("digest_weekday")
        batch_op.drop_column("reveal_time")
        batch_op.drop_column("grace_minutes")
