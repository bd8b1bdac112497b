"""kasm notices: index on created_at (live dashboards look for new notices)

Revision ID: t0301
Revises: t0300
"""

from collections.abc import Sequence

from alembic import op

revision: str = "t0301"
down_revision: str | None = "t0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_kasm_notices_created_at"), "kasm_notices", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_kasm_notices_created_at"), table_name="kasm_notices")
