"""Plans: a member's target role, level and interview date

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=True),
        sa.Column("interview_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_plans_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_plans")),
    )


def downgrade() -> None:
    op.drop_table("plans")
