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

# The new columns go before `metadata_json` and `content`: SQLite stores a row in column order
# and spills long text into overflow pages, so a column after `content` (where ADD COLUMN
# would put it) costs a walk of the document's text to read, and the health check reads these
# for every document. So the table is rebuilt, ids kept (the search index refers to them).
# DROP TABLE drops the triggers before its implicit DELETE, so the index is not touched.
_COLUMNS_0001 = (
    "id, project_id, doc_type, doc_id, title, status, owner, priority, story_points, epic, "
    "story, ref_id, depends_on, aliases, parser_epoch, file_path, file_hash, file_size, "
    "file_mtime_ns, file_ctime_ns, blob_sha, synced_at, metadata_json, content"
)
REBUILD = (
    """CREATE TABLE documents_rebuilt (
        id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        doc_type VARCHAR(50) NOT NULL,
        doc_id VARCHAR(200) NOT NULL,
        title TEXT NOT NULL,
        status VARCHAR(100),
        owner TEXT,
        priority TEXT,
        story_points INTEGER,
        epic VARCHAR(64),
        story VARCHAR(64),
        ref_id VARCHAR(64),
        depends_on TEXT,
        aliases TEXT,
        parser_epoch INTEGER DEFAULT 0 NOT NULL,
        file_path TEXT NOT NULL,
        file_hash VARCHAR(64) NOT NULL,
        file_size INTEGER,
        file_mtime_ns INTEGER,
        file_ctime_ns INTEGER,
        blob_sha VARCHAR(64),
        synced_at VARCHAR(40) NOT NULL,
        archived BOOLEAN NOT NULL DEFAULT 0,
        content_chars INTEGER NOT NULL DEFAULT 0,
        content_epic VARCHAR(64),
        last_seen_at VARCHAR(40),
        metadata_json TEXT,
        content TEXT NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT uq_documents_project_path UNIQUE (project_id, file_path),
        FOREIGN KEY(project_id) REFERENCES projects (id) ON DELETE CASCADE
    )""",
    f"INSERT INTO documents_rebuilt ({_COLUMNS_0001}) SELECT {_COLUMNS_0001} FROM documents",  # noqa: S608
    "DROP TABLE documents",
    "ALTER TABLE documents_rebuilt RENAME TO documents",
    # 0001's indexes and search-index triggers, as 0001 created them.
    "CREATE INDEX ix_documents_project_synced ON documents (project_id, synced_at, doc_id, id)",
    "CREATE INDEX ix_documents_project_title ON documents (project_id, title, doc_id, id)",
    "CREATE INDEX ix_documents_project_type ON documents (project_id, doc_type, doc_id, id)",
    "CREATE INDEX ix_documents_project_status ON documents (project_id, status, doc_id, id)",
    "CREATE INDEX ix_documents_project_type_status ON documents (project_id, doc_type, status)",
    "CREATE INDEX ix_documents_ref_id ON documents (ref_id)",
    "CREATE INDEX ix_documents_sync_fingerprint ON documents (project_id, file_path, id, "
    "file_hash, file_size, file_mtime_ns, file_ctime_ns, parser_epoch)",
    """CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
    """CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
    END""",
    """CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, content
    ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, content)
        VALUES ('delete', old.id, old.title, old.content);
        INSERT INTO documents_fts(rowid, title, content) VALUES (new.id, new.title, new.content);
    END""",
)

UPGRADE = (
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
    for statement in (*REBUILD, *UPGRADE, *BACKFILL):
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
