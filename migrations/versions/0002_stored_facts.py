"""facts stored, not inferred

- articles.dated: whether the feed dated the entry. Existing rows get the guess the code used to make
  (a stored publication time at or after the fetch time stands for a missing date).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

articles = sa.table(
    "articles",
    sa.column("id", sa.Integer()),
    sa.column("published_at", sa.DateTime()),
    sa.column("fetched_at", sa.DateTime()),
    sa.column("dated", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.add_column(sa.Column("dated", sa.Boolean(), nullable=True))
    op.execute(
        articles.update().values(
            dated=sa.case((articles.c.published_at < articles.c.fetched_at, sa.true()), else_=sa.false())
        )
    )
    with op.batch_alter_table("articles") as batch_op:
        batch_op.alter_column("dated", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_column("dated")
