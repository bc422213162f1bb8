"""articles.dated, the outlet of each feed, stories.state split in two

- articles.dated: whether the feed dated the entry. Existing rows get the guess the code used to make
  (a stored publication time at or after the fetch time stands for a missing date).
- feeds.outlet_key, feeds.outlet, feeds.outlet_override: the outlet (brand) of each feed, so that every
  reader counts and names outlets the same way. Existing feeds get the outlet aggregator.ingest.outlets
  derives from their stored title, site URL and their articles' links, as of this release (each later
  fetch derives it again); the override comes from the config at the next `aggregator init` or run.
- stories.state, which two stages shared (the engine's keys at the top level, the related-stories cache
  under "links"), becomes two columns with one writer each: engine_state and links_state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa
from alembic import op

from aggregator.ingest.outlets import outlet_of

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

feeds = sa.table(
    "feeds",
    sa.column("id", sa.Integer()),
    sa.column("url", sa.String()),
    sa.column("title", sa.String()),
    sa.column("site_url", sa.String()),
    sa.column("outlet_key", sa.String()),
    sa.column("outlet", sa.String()),
)
feed_articles = sa.table("articles", sa.column("feed_id", sa.Integer()), sa.column("url", sa.String()))
ENTRY_SAMPLE = 50  # links per feed looked at for its host
stories = sa.table(
    "stories",
    sa.column("id", sa.Integer()),
    sa.column("state", sa.JSON()),
    sa.column("engine_state", sa.JSON()),
    sa.column("links_state", sa.JSON()),
)
LINKS_KEY = "links"  # where the related-stories stage kept its cache inside stories.state


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch_op:
        batch_op.add_column(sa.Column("outlet_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("outlet", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("outlet_override", sa.String(length=500), nullable=True))
    conn = op.get_bind()
    for feed_id, url, title, site_url in conn.execute(
        sa.select(feeds.c.id, feeds.c.url, feeds.c.title, feeds.c.site_url)
    ).all():
        links = conn.scalars(
            sa.select(feed_articles.c.url)
            .where(feed_articles.c.feed_id == feed_id, feed_articles.c.url.is_not(None))
            .limit(ENTRY_SAMPLE)
        ).all()
        outlet = outlet_of(title or "", site_url, links, feed_url=url)
        conn.execute(
            feeds.update()
            .where(feeds.c.id == feed_id)
            .values(outlet_key=outlet.key[:200], outlet=outlet.name[:500])
        )
    with op.batch_alter_table("feeds") as batch_op:
        batch_op.alter_column("outlet_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column("outlet", existing_type=sa.String(length=500), nullable=False)

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

    with op.batch_alter_table("feeds") as batch_op:
        batch_op.drop_column("outlet_override")
        batch_op.drop_column("outlet")
        batch_op.drop_column("outlet_key")
