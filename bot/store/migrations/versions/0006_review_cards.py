"""Review cards: a member's FSRS spaced-review card per question

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "review_cards",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("question_id", sa.String(length=80), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("due", sa.DateTime(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("last_score", sa.Float(), nullable=False),
        sa.Column("missed", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_review_cards_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "question_id", name=op.f("pk_review_cards")),
    )
    op.create_index("ix_review_cards_user_due", "review_cards", ["user_id", "due"])


def downgrade() -> None:
    op.drop_index("ix_review_cards_user_due", table_name="review_cards")
    op.drop_table("review_cards")
