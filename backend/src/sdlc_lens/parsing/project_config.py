"""Best-effort reading of a project root's `.config.yaml` and `.version` files.

No YAML library is available, and only a small subset matters: top-level `key: value` scalars
(`schema_version`, `profile`) and a `status_vocab` mapping of document type -> list of tokens,
with lists in flow (`[a, b]`) or block (`- a`) style. Anything else is ignored; nothing raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sdlc_lens.parsing.front_matter import normalise_text

__all__ = ["ProjectConfig", "parse_project_config"]

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """The project-level settings a sync stores on the project row."""

    schema_version: int | None
    profile: str | None
    status_vocab: dict[str, list[str]]


@dataclass(slots=True)
class _YamlSubset:
    scalars: dict[str, str] = field(default_factory=dict)
    status_vocab: dict[str, list[str]] = field(default_factory=dict)


def _strip_comment(line: str) -> str:
    """Drop a `#` comment (at the start or after whitespace) that is outside quotes."""
    quote = ""
    previous = " "
    escaped = False
    for index, char in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif quote == '"' and char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in ("'", '"') and previous in " \t[{,:":
            quote = char
        elif char == "#" and previous in " \t":
            return line[:index]
        previous = char
    return line


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in ("'", '"'):
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else inner.replace('\\"', '"')
    return value


def _split_flow(inner: str) -> list[str] | None:
    """Split flow-collection content at top-level commas; None if brackets don't balance."""
    items: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for index, char in enumerate(inner):
        if quote:
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            items.append(inner[start:index])
            start = index + 1
    if depth != 0 or quote:
        return None
    items.append(inner[start:])
    return [item.strip() for item in items if item.strip()]


def _flow_list(value: str) -> list[str] | None:
    """Parse `[a, "b c"]` into tokens; None if value is not a flat flow list."""
    value = value.strip()
    if not (value.startswith("[") and value.endswith("]")):
        return None
    items = _split_flow(value[1:-1])
    if items is None or any(item[0] in "[{" for item in items):
        return None
    return [token for token in (_unquote(item) for item in items) if token]


def _split_key(line: str) -> tuple[str, str] | None:
    """Split `key: value` (or `key:`) into the unquoted key and the raw value."""
    stripped = line.strip()
    if stripped.startswith(('"', "'")):
        close = stripped.find(stripped[0], 1)
        if close == -1 or not stripped[close + 1 :].lstrip().startswith(":"):
            return None
        key = stripped[1:close]
        rest = stripped[close + 1 :].lstrip()[1:]
    else:
        colon = stripped.find(": ")
        if colon == -1:
            if not stripped.endswith(":"):
                return None
            colon = len(stripped) - 1
        key, rest = stripped[:colon], stripped[colon + 1 :]
    key = key.strip()
    if not key or key.startswith(("-", "[", "{")):
        return None
    return key, rest.strip()


def _flow_mapping(value: str) -> dict[str, list[str]]:
    """Parse `{story: [a, b], bug: [c]}` into a vocabulary; {} if it isn't one."""
    value = value.strip()
    if not (value.startswith("{") and value.endswith("}")):
        return {}
    entries = _split_flow(value[1:-1]) or []
    vocab: dict[str, list[str]] = {}
    for entry in entries:
        pair = _split_key(entry)
        tokens = _flow_list(pair[1]) if pair else None
        if pair and tokens:
            vocab[_unquote(pair[0]).lower()] = tokens
    return vocab


def _parse_subset(text: str | None) -> _YamlSubset:
    result = _YamlSubset()
    if not text:
        return result
    in_vocab = False
    type_indent: int | None = None
    current: list[str] | None = None  # the block list being filled, if any
    for raw_line in normalise_text(text).split("\n"):
        line = _strip_comment(raw_line).rstrip()
        if not line.strip() or line in ("---", "..."):
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        stripped = line.strip()

        if indent == 0:
            in_vocab, type_indent, current = False, None, None
            pair = _split_key(line)
            if pair is None:
                continue
            key, value = _unquote(pair[0]), pair[1]
            if key == "status_vocab":
                if value:
                    result.status_vocab.update(_flow_mapping(value))
                else:
                    in_vocab = True
            elif value and not value.startswith(("[", "{", "|", ">", "&", "*", "!")):
                result.scalars[key] = _unquote(value)
            continue

        if not in_vocab:
            continue  # nested content of some other top-level key
        if stripped == "-" or stripped.startswith("- "):
            # YAML allows a block list at the same indent as its key, so >= rather than >.
            if current is not None and type_indent is not None and indent >= type_indent:
                token = _unquote(stripped[1:])
                if token and token[0] not in "[{":
                    current.append(token)
            continue
        if type_indent is None:
            type_indent = indent
        if indent != type_indent:
            current = None  # deeper, unsupported nesting under a type
            continue
        pair = _split_key(line)
        current = None
        if pair is None:
            continue
        doc_type, value = _unquote(pair[0]).lower(), pair[1]
        if not value:
            current = result.status_vocab.setdefault(doc_type, [])
        else:
            tokens = _flow_list(value)
            if tokens is not None:
                result.status_vocab[doc_type] = tokens
    # A type with no tokens adds nothing to canonicalisation.
    result.status_vocab = {key: tokens for key, tokens in result.status_vocab.items() if tokens}
    return result


def _as_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _as_text(value: str | None) -> str | None:
    if value is None or value.strip() in _NULLS:
        return None
    return value.strip()


def parse_project_config(config_yaml: str | None, version_yaml: str | None) -> ProjectConfig:
    """Read schema_version, profile and status_vocab (`.config.yaml` first, then `.version`)."""
    config = _parse_subset(config_yaml)
    version = _parse_subset(version_yaml)
    schema_version = _as_int(config.scalars.get("schema_version"))
    if schema_version is None:
        schema_version = _as_int(version.scalars.get("schema_version"))
    profile = _as_text(config.scalars.get("profile"))
    if profile is None:
        profile = _as_text(version.scalars.get("profile"))
    status_vocab = config.status_vocab or version.status_vocab
    return ProjectConfig(schema_version=schema_version, profile=profile, status_vocab=status_vocab)
