"""Relationships and health check: the document_links table and what the rules need per row.

- `document_links`: every reference key of a document (its own key, aliases, epic, story,
  depends on), indexed by (project, kind, key) so `/related` resolves references with a few
  index lookups whatever the project size. Rows go with their document (FK cascade).
- `documents.archived`: a retired copy (archive folder or `_` doc_id); ranks after live copies.
- `documents.content_chars`, `documents.content_epic`: the body's stripped length and the epic
  a `**Epic:**` body line names, so the health check never loads any document's text.
- `documents.last_seen_at`: NULL while the project's latest sync saw the file; otherwise when a
  sync last did (the health check's STALE_DOCUMENT), so an unchanged re-sync rewrites no row.

Existing rows are filled in from what 0001 stored, so relationships and the health check work
at once; the parser-epoch bump that ships with this revision re-derives every row (and its
body) exactly on the next sync.

Revision ID: 0002_document_links
Revises: 0001_initial
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_document_links"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = (
    "ALTER TABLE documents ADD COLUMN archived BOOLEAN NOT NULL DEFAULT 0",
    "ALTER TABLE documents ADD COLUMN content_chars INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE documents ADD COLUMN content_epic VARCHAR(64)",
    "ALTER TABLE documents ADD COLUMN last_seen_at VARCHAR(40)",
    # The few rows a sync did not see: found without reading the others.
    "CREATE INDEX ix_documents_unseen ON documents (project_id) WHERE last_seen_at IS NOT NULL",
    """CREATE TABLE document_links (
        document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        project_id INTEGER NOT NULL,
        kind VARCHAR(20) NOT NULL,
        ref_key VARCHAR(64) NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (document_id, kind, position)
    ) WITHOUT ROWID""",
    "CREATE INDEX ix_document_links_key ON document_links (project_id, kind, ref_key)",
)

# 0001 stored normalised ids ([A-Z0-9]+) joined by commas: quoting around the commas makes a
# JSON array of them; anything else becomes [] rather than failing the upgrade.
BACKFILL = (
    # Approximations of the parser's rules, good until the next sync re-derives every row.
    r"""UPDATE documents SET
        content_chars = length(trim(content, ' ' || char(9, 10, 11, 12, 13))),
        archived = (doc_id LIKE '\_%' ESCAPE '\'
                    OR '/' || file_path LIKE '%/archive/%'
                    OR '/' || file_path LIKE '%/archived/%'
                    OR '/' || file_path LIKE '%/\_archive/%' ESCAPE '\'
                    OR '/' || file_path LIKE '%/\_archived/%' ESCAPE '\')""",
    """INSERT INTO document_links (document_id, project_id, kind, ref_key, position)
    SELECT id, project_id, 'ref', ref_id, 0 FROM documents WHERE ref_id IS NOT NULL""",
    """INSERT INTO document_links (document_id, project_id, kind, ref_key, position)
    SELECT id, project_id, 'epic', epic, 0 FROM documents WHERE epic IS NOT NULL""",
    """INSERT INTO document_links (document_id, project_id, kind, ref_key, position)
    SELECT id, project_id, 'story', story, 0 FROM documents WHERE story IS NOT NULL""",
    """INSERT INTO document_links (document_id, project_id, kind, ref_key, position)
    SELECT d.id, d.project_id, 'alias', item.value, item.key
    FROM (SELECT id, project_id, '["' || replace(aliases, ',', '","') || '"]' AS list
          FROM documents WHERE aliases IS NOT NULL) AS d,
         json_each(CASE WHEN json_valid(d.list) THEN d.list ELSE '[]' END) AS item
    WHERE item.value != ''""",
    """INSERT INTO document_links (document_id, project_id, kind, ref_key, position)
    SELECT d.id, d.project_id, 'depends_on', item.value, item.key
    FROM (SELECT id, project_id, '["' || replace(depends_on, ',', '","') || '"]' AS list
          FROM documents WHERE depends_on IS NOT NULL) AS d,
         json_each(CASE WHEN json_valid(d.list) THEN d.list ELSE '[]' END) AS item
    WHERE item.value != ''""",
)

DOWNGRADE = (
    "DROP TABLE document_links",
    "DROP INDEX ix_documents_unseen",
    "ALTER TABLE documents DROP COLUMN last_seen_at",
    "ALTER TABLE documents DROP COLUMN content_epic",
    "ALTER TABLE documents DROP COLUMN content_chars",
    "ALTER TABLE documents DROP COLUMN archived",
)


def upgrade() -> None:
    for statement in (*UPGRADE, *BACKFILL):
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
