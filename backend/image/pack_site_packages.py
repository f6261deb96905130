"""Pack the image's pure-Python dependencies into one compressed zip (run by the Dockerfile).

    python pack_site_packages.py SITE_PACKAGES

Every top-level package or module of SITE_PACKAGES goes into `SITE_PACKAGES.zip` (next to the
folder): its sources, for tracebacks, and its bytecode, compiled here (the runtime user cannot
write bytecode, and Python imports `.pyc` files from a zip without reading their sources).
A `.pth` file puts the zip on sys.path, after the folder. Deflate makes the code about a
third of its size on disk: the image's size target could not be met otherwise.

Staying in the folder, because they cannot be imported from a zip or read files next to
themselves: packages with extension modules (found by their `.so` files, so a new dependency
with one cannot break at run time), namespace packages (no __init__.py), packages with data
files (KEEP_DATA), `*.dist-info` (for importlib.metadata) and the application itself. The
packages whose extension modules are optional (OPTIONAL_NATIVE: SQLAlchemy's Cython, dulwich's
Rust) are zipped without them: both fall back to their pure-Python code.
"""

import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

OPTIONAL_NATIVE = {"sqlalchemy", "dulwich"}
KEEP_DATA = {"certifi", "fastapi_offline"}  # cacert.pem; the /docs page's scripts and styles
KEEP = KEEP_DATA | {"sdlc_lens", "__pycache__"}
PTH_FILE = "zz_site_packages_zip.pth"


def zipped_entries(site: Path) -> list[Path]:
    """The top-level packages and modules that go into the zip."""
    entries = []
    for entry in sorted(site.iterdir()):
        if (
            entry.name in KEEP
            or entry.suffix in (".pth", ".so")
            or entry.name.endswith(".dist-info")
        ):
            continue
        if entry.is_dir() and not (entry / "__init__.py").exists():
            continue  # a namespace package: zipimport cannot serve those
        if entry.is_dir() and entry.name not in OPTIONAL_NATIVE and any(entry.rglob("*.so")):
            continue  # an extension module cannot be loaded from a zip
        if entry.is_dir() or entry.suffix == ".py":
            entries.append(entry)
    return entries


def pack(site: Path) -> Path:
    """Write the zip and the .pth file; remove what was packed from `site`."""
    archive = site.with_name(site.name + ".zip")
    entries = zipped_entries(site)
    with (
        tempfile.TemporaryDirectory() as scratch,
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
    ):
        compiled = Path(scratch) / "module.pyc"
        for entry in entries:
            files = sorted(entry.rglob("*")) if entry.is_dir() else [entry]
            for path in files:
                if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".so":
                    continue
                name = path.relative_to(site).as_posix()
                zf.write(path, name)
                if path.suffix == ".py":
                    # Tracebacks name the file inside the zip, whose loader has the source.
                    py_compile.compile(
                        str(path),
                        cfile=str(compiled),
                        dfile=f"{archive}/{name}",
                        doraise=True,
                        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                    )
                    zf.write(compiled, name[:-3] + ".pyc")
    for entry in entries:
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (site / PTH_FILE).write_text(f"{archive}\n", encoding="utf-8")
    return archive


if __name__ == "__main__":
    packed = pack(Path(sys.argv[1]))
    print(f"{packed}: {packed.stat().st_size / 1e6:.1f} MB")
