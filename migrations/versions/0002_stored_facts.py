"""facts stored, not inferred

- articles.dated: whether the feed dated the entry. Existing rows get the guess the code used to make
  (a stored publication time at or after the fetch time stands for a missing date).
- stories.state, which two stages shared (the engine's keys at the top level, the related-stories cache
  under "links"), becomes two columns with one writer each: engine_state and links_state.

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

stories = sa.table(
    "stories",
    sa.column("id", sa.Integer()),
    sa.column("state", sa.JSON()),
    sa.column("engine_state", sa.JSON()),
    sa.column("links_state", sa.JSON()),
)
LINKS_KEY = "links"  # where the related-stories stage kept its cache inside stories.state


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

    with op.batch_alter_table("stories") as batch_op:
        batch_op.add_column(sa.Column("engine_state", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("links_state", sa.JSON(), nullable=True))
    conn = op.get_bind()
    for story_id, state in conn.execute(sa.select(stories.c.id, stories.c.state)).all():
        if not isinstance(state, dict):
            continue
        engine = {k: v for k, v in state.items() if k != LINKS_KEY}
        links = state.get(LINKS_KEY)
        conn.execute(
            stories.update()
            .where(stories.c.id == story_id)
            .values(engine_state=engine or sa.null(), links_state=sa.null() if links is None else links)
        )
    with op.batch_alter_table("stories") as batch_op:
        batch_op.drop_column("state")


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch_op:
        batch_op.add_column(sa.Column("state", sa.JSON(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(stories.c.id, stories.c.engine_state, stories.c.links_state)).all()
    for story_id, engine, links in rows:
        if engine is None and links is None:
            continue
        state = dict(engine or {})
        if links is not None:
            state[LINKS_KEY] = links
        conn.execute(stories.update().where(stories.c.id == story_id).values(state=state))
    with op.batch_alter_table("stories") as batch_op:
        batch_op.drop_column("links_state")
        batch_op.drop_column("engine_state")

    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_column("dated")
