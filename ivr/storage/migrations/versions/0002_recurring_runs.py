"""recurring campaigns: runs point at their parent and occurrence; the parent's next occurrence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:40:00

Columns only (all nullable), so SQLite adds them with ALTER TABLE ADD COLUMN in place: no batch
table copy, which would have to drop `campaign` while contacts and attempts point at it (and
fails with foreign_keys=ON). The unique index on (parent_id, occurrence) is what makes a second
run for one occurrence impossible.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('campaign', sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a REFERENCES clause in place; Alembic would only do it by
        # copying the table.
        op.execute("ALTER TABLE campaign ADD COLUMN parent_id INTEGER "
                   "CONSTRAINT fk_campaign_parent_id REFERENCES campaign (id)")
    else:
        op.add_column('campaign', sa.Column('parent_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_campaign_parent_id', 'campaign', 'campaign', ['parent_id'], ['id'])
    op.add_column('campaign', sa.Column('occurrence', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_campaign_parent_id', 'campaign', ['parent_id'], unique=False)
    op.create_index('uq_campaign_parent_occurrence', 'campaign', ['parent_id', 'occurrence'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_campaign_parent_occurrence', table_name='campaign')
    op.drop_index('ix_campaign_parent_id', table_name='campaign')
    if op.get_bind().dialect.name == "sqlite":
        for column in ("occurrence", "parent_id", "next_run_at"):   # SQLite ≥ 3.35, in place
            op.execute(f"ALTER TABLE campaign DROP COLUMN {column}")
    else:
        op.drop_constraint('fk_campaign_parent_id', 'campaign', type_='foreignkey')
        for column in ("occurrence", "parent_id", "next_run_at"):
            op.drop_column('campaign', column)
