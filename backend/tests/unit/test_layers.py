"""The shape of the code: HTTP stays in `api/`; every domain exception lives in `errors.py`
and has its HTTP mapping; modules stay small; each package says what it owns."""

import ast
import importlib
import pkgutil
from pathlib import Path

import sdlc_lens
from sdlc_lens.api.errors import ERROR_STATUS
from sdlc_lens.errors import AppError

PACKAGE_DIR = Path(sdlc_lens.__file__).parent
# The only modules that may speak HTTP: the API layer and the app factory that mounts it.
HTTP_MODULES = ("api/", "main.py")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_api_layer_imports_the_web_framework() -> None:
    leaks = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if relative.startswith(HTTP_MODULES):
            continue
        web = {m for m in imported_modules(path) if m.split(".")[0] in {"fastapi", "starlette"}}
        if web:
            leaks[relative] = web
    assert leaks == {}


# What parsing may import: text in, dataclasses out; no I/O, no database, no other layer.
PURE_MODULES = {
    "__future__",
    "collections",
    "dataclasses",
    "enum",
    "functools",
    "itertools",
    "re",
    "types",
}


def test_parsing_is_pure() -> None:
    for path in (PACKAGE_DIR / "parsing").rglob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            inside = name.startswith("sdlc_lens.parsing")
            assert inside or top in PURE_MODULES, f"{path.name} imports {name}"


def all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= all_subclasses(sub)
    return found


def test_every_domain_exception_has_an_explicit_http_mapping() -> None:
    for module in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="sdlc_lens."):
        importlib.import_module(module.name)
    unmapped = {cls.__qualname__ for cls in all_subclasses(AppError) if cls not in ERROR_STATUS}
    assert unmapped == set(), "add these to ERROR_STATUS in api/errors.py"


def test_domain_exceptions_carry_no_http_status() -> None:
    for cls in all_subclasses(AppError) | {AppError}:
        assert not {"status_code", "code"} & set(vars(cls)), cls


# Exception classes defined outside errors.py, each for a reason errors.py gives.
NOT_DOMAIN_ERRORS = {
    "sdlc_lens.db.engine.DatabaseUrlError",  # a configuration error, before the service starts
    "sdlc_lens.preflight.InvalidSettingsError",  # the entrypoint's settings check
    "sdlc_lens.api.middleware.BodyTooLargeError",  # the API's own HTTP error
    "sdlc_lens.backup.BackupError",  # the backup command's error, printed by that command
    # The git transport's own signals, each turned into a SourceError line by git_errors.py.
    "sdlc_lens.services.sources.git_errors.HttpStatusError",
    "sdlc_lens.services.sources.git_errors.FetchTooLargeError",
    "sdlc_lens.services.sources.git_errors.DamagedPackError",
}


def test_domain_exceptions_live_in_errors_py() -> None:
    elsewhere = set()
    for module in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="sdlc_lens."):
        loaded = importlib.import_module(module.name)
        if module.name == "sdlc_lens.errors":
            continue
        for name, value in vars(loaded).items():
            defined_here = getattr(value, "__module__", None) == module.name
            exception = isinstance(value, type) and issubclass(value, BaseException)
            if exception and defined_here and not name.startswith("_"):
                elsewhere.add(f"{module.name}.{name}")
    assert elsewhere == NOT_DOMAIN_ERRORS, "define domain errors in sdlc_lens/errors.py"


# Past this a module holds more than one idea: split it (and say so in its package).
MAX_MODULE_LINES = 450


def test_no_module_is_over_450_lines() -> None:
    sizes = {
        path.relative_to(PACKAGE_DIR).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE_DIR.rglob("*.py")
    }
    assert sizes, PACKAGE_DIR
    assert {path: n for path, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_each_package_opens_with_one_line_saying_what_it_owns() -> None:
    for init in PACKAGE_DIR.rglob("__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, f"{init.relative_to(PACKAGE_DIR)} has no docstring"
        assert "\n" not in docstring.split("\n\n")[0], f"{init}: the first line is one line"
