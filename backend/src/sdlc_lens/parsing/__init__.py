"""Pure parsing of sdlc-studio documents: front matter, identity, status and project config."""

from sdlc_lens.parsing.document import (
    COLUMN_FIELDS,
    DocumentRecord,
    LinkKind,
    build_document,
    epic_named_in,
)
from sdlc_lens.parsing.front_matter import ParsedDocument, parse_front_matter
from sdlc_lens.parsing.identity import (
    DOC_TYPE_BY_PREFIX,
    extract_ref,
    extract_refs,
    id_head,
    infer_type_and_id,
    is_archived,
)
from sdlc_lens.parsing.project_config import ProjectConfig, parse_project_config
from sdlc_lens.parsing.status import (
    TERMINAL,
    VOCABULARY,
    StatusVocabulary,
    canonicalise_status,
    is_terminal,
)

__all__ = [
    "COLUMN_FIELDS",
    "DOC_TYPE_BY_PREFIX",
    "TERMINAL",
    "VOCABULARY",
    "DocumentRecord",
    "LinkKind",
    "ParsedDocument",
    "ProjectConfig",
    "StatusVocabulary",
    "build_document",
    "canonicalise_status",
    "epic_named_in",
    "extract_ref",
    "extract_refs",
    "id_head",
    "infer_type_and_id",
    "is_archived",
    "is_terminal",
    "parse_front_matter",
    "parse_project_config",
]
