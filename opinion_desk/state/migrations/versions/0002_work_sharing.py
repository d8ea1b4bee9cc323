"""Work sharing between desk processes: leases for singleton jobs, the ingest queue, the rule feed, outbox claims
and the alerts' unique match key.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ingest_queue",
        sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ingest_queue_claimed_until", "ingest_queue", ["claimed_until"])
    op.create_table(
        "rule_feed",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("post_id", sa.String(length=100), nullable=False),
        sa.Column("post", sa.JSON(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("post_id"),
    )
    op.create_table(
        "rule_feed_head",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "rule_feed_cursors",
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("alert_outbox", sa.Column("claimed_by", sa.String(length=200), nullable=True))
    op.add_column("alert_outbox", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alerts", sa.Column("match_key", sa.String(length=64), nullable=True))
    op.create_index("alerts_match_key", "alerts", ["match_key"], unique=True)


def downgrade() -> None:
    op.drop_index("alerts_match_key", table_name="alerts")
    with op.batch_alter_table("alerts") as b:
        b.drop_column("match_key")
    with op.batch_alter_table("alert_outbox") as b:
        b.drop_column("claimed_until")
        b.drop_column("claimed_by")
    op.drop_table("rule_feed_cursors")
    op.drop_table("rule_feed_head")
    op.drop_table("rule_feed")
    op.drop_index("ingest_queue_claimed_until", table_name="ingest_queue")
    op.drop_table("ingest_queue")
    op.drop_table("leases")
