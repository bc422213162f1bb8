"""newsletter_sends.attempted_at, runs.owner

- newsletter_sends.attempted_at: when the last delivery attempt started. The attempt is recorded (state
  ``sending``, attempts + 1) before the transport connects, so a run killed mid-delivery leaves a row whose
  outcome is known to be unknown. Existing rows keep NULL.
- runs.owner: ``host:pid`` of the process that runs the step, so the next start can tell a run record left
  ``running`` by a dead process (marked ``interrupted``) from one still going. Existing rows keep NULL (a
  ``running`` row without an owner is from before this revision and is marked interrupted).

Revision ID: 0003
Revises: 0002
Downgrading turns ``sending`` and ``unconfirmed`` digests back into ``built`` and ``interrupted`` runs into
``error``, the nearest states the previous release knows.

Create Date: 2026-12-03 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("newsletter_sends") as batch_op:
        batch_op.add_column(sa.Column("attempted_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("runs") as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=300), nullable=True))


newsletter_sends = sa.table("newsletter_sends", sa.column("state", sa.String()))
runs = sa.table("runs", sa.column("outcome", sa.String()))


def downgrade() -> None:
    # States the previous release does not know: a digest mid-delivery or of unknown outcome is pending
    # there (it delivers it again), an interrupted run an error.
    op.execute(
        newsletter_sends.update()
        .where(newsletter_sends.c.state.in_(["sending", "unconfirmed"]))
        .values(state="built")
    )
    op.execute(runs.update().where(runs.c.outcome == "interrupted").values(outcome="error"))
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("owner")
    with op.batch_alter_table("newsletter_sends") as batch_op:
        batch_op.drop_column("attempted_at")
