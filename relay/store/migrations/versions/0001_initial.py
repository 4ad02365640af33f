"""Baseline: the community tables, as create_all made them before there were migrations.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contributions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("operator_name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("availability", sa.String(length=200), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("hardware", sa.String(length=2000), nullable=True),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    op.create_table(
        "model_feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("model_id", sa.String(length=256), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rating >= 1 AND rating <= 5", name=op.f("ck_model_feedback_rating_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_feedback")),
    )
    op.create_index(
        op.f("ix_model_feedback_model_id"), "model_feedback", ["model_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_model_feedback_model_id"), table_name="model_feedback")
    op.drop_table("model_feedback")
    op.drop_table("contributions")
