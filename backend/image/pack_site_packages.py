"""Pack the image's bytecode into compressed zips (run by the Dockerfile).

    python pack_site_packages.py SITE_PACKAGES
    python pack_site_packages.py --app SITE_PACKAGES PACKAGE
    python pack_site_packages.py --stdlib LIB OUT

The first form packs the pure-Python dependencies (below); the second, the application's
package, with its sources (pack_app); the third, the standard library's bytecode
(pack_stdlib).

Every top-level package or module of SITE_PACKAGES goes into `SITE_PACKAGES.zip` (next to the
folder) as bytecode only, compiled here: the runtime user cannot write bytecode, and Python
imports `.pyc` files from a zip without a source next to them. The sources stay out to keep
the image under 150 MB: a traceback through a library still names its file, line and
function, without the line's text (the application's own frames keep theirs: its zip holds
its sources). A `.pth` file puts the zip on sys.path, after the folder. Deflate makes the
bytecode about a third of its size on disk.

Staying in the folder, because they cannot be imported from a zip or read files next to
themselves: packages with extension modules (found by their `.so` files, so a new dependency
with one cannot break at run time), packages with data files (KEEP_DATA), `*.dist-info` (for
importlib.metadata) and the application (pack_app gives it a zip of its own). Those packages
get bytecode only too: each `module.py` is replaced by a `module.pyc` beside it, which Python
imports without a source. The packages whose extension modules are optional (OPTIONAL_NATIVE:
SQLAlchemy's Cython, dulwich's Rust) are zipped without them: both fall back to their
pure-Python code. Namespace packages (no __init__.py) are zipped with their folders as
entries of their own, which zipimport needs to find them.
"""

import py_compile
import shutil
import sys
import tempfile
import zipfile
import zlib
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
        if entry.is_dir() and entry.name not in OPTIONAL_NATIVE and any(entry.rglob("*.so")):
            continue  # an extension module cannot be loaded from a zip
        if entry.is_dir() or entry.suffix == ".py":
            entries.append(entry)
    return entries


def pack(site: Path) -> Path:
    """Write the zip and the .pth file; remove what was packed from `site`."""
    archive = site.with_name(site.name + ".zip")
    entries = zipped_entries(site)
    write_zip(archive, site, entries, with_sources=False)
    remove(entries)
    (site / PTH_FILE).write_text(f"{archive}\n", encoding="utf-8")
    compile_beside(site)
    for metadata in site.glob("*.dist-info/METADATA"):
        drop_description(metadata)
    return archive


def drop_description(metadata: Path) -> None:
    """Keep a METADATA file's headers (name, version, licence, requirements: what
    importlib.metadata and scanners read); drop its body, the package's README."""
    text = metadata.read_text(encoding="utf-8")
    headers, _blank, _body = text.partition("\n\n")
    metadata.write_text(headers + "\n", encoding="utf-8")


def pack_app(site: Path, package: str) -> Path:
    """Move the application's package from `site` into `PACKAGE.zip` next to it, sources and
    bytecode, and put that on sys.path: tracebacks through it show each line's text (its
    loader reads the source from the zip)."""
    archive = site.with_name(package + ".zip")
    entries = [site / package]
    write_zip(archive, site, entries, with_sources=True)
    remove(entries)
    (site / f"zz_{package}_zip.pth").write_text(f"{archive}\n", encoding="utf-8")
    return archive


def write_zip(archive: Path, site: Path, entries: list[Path], *, with_sources: bool) -> None:
    """Write `entries` (top-level packages and modules of `site`) into `archive`: bytecode,
    data files, folder entries, and the sources when `with_sources`."""
    with (
        tempfile.TemporaryDirectory() as scratch,
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
    ):
        compiled = Path(scratch) / "module.pyc"
        for entry in entries:
            files = [entry, *sorted(entry.rglob("*"))] if entry.is_dir() else [entry]
            for path in files:
                if "__pycache__" in path.parts or path.suffix == ".so":
                    continue
                name = path.relative_to(site).as_posix()
                if path.is_dir():
                    zf.mkdir(name)  # a namespace package is found by its folder's entry
                elif path.suffix == ".py":
                    # Tracebacks name the source's place inside the zip.
                    compile_to(compiled, path, shown_as=f"{archive}/{name}")
                    zf.write(compiled, name[:-3] + ".pyc")
                    if with_sources:
                        zf.write(path, name)
                else:
                    zf.write(path, name)


def remove(entries: list[Path]) -> None:
    """Delete packed packages and modules."""
    for entry in entries:
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def compile_beside(site: Path) -> None:
    """Replace each source left in `site` (packages that stay folders) by its bytecode, beside
    it, where Python loads it without the source; their __pycache__ folders go."""
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache)
    for source in sorted(site.rglob("*.py")):
        compile_to(source.with_suffix(".pyc"), source)
        source.unlink()


def stdlib_packages(lib: Path) -> dict[Path, list[Path]]:
    """The standard library's top-level modules and packages of which the builder wrote
    bytecode (by importing them: those the image's start imports), each with those .pyc files."""
    found: dict[Path, list[Path]] = {}
    for pyc in sorted(lib.rglob("__pycache__/*.pyc")):
        folder = pyc.parent.parent.relative_to(lib)
        if folder.parts and folder.parts[0] in ("site-packages", "lib-dynload"):
            continue
        top = lib / folder.parts[0] if folder.parts else lib / (pyc.name.split(".")[0] + ".py")
        found.setdefault(top, []).append(pyc)
    return found


def pack_stdlib(lib: Path, out: Path) -> Path:
    """Put the bytecode of the standard-library modules a start imports into OUT, for the
    runtime stage to copy over LIB's parent, each top-level module or package where it takes
    fewer bytes: OUT/python312.zip (the interpreter's own zip, first on its sys.path; a
    package found there is only looked for there, so it goes in whole, deflated), or the
    .pyc files the builder wrote under OUT/python3.12/.../__pycache__ (a big package of which
    a start uses a few modules, such as the codecs of `encodings`). Each .pyc names its real
    source file, which stays in LIB: tracebacks and `inspect` read it from there."""
    archive = out / "python312.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for top, written in stdlib_packages(lib).items():
            files = [top, *sorted(top.rglob("*"))] if top.is_dir() else [top]
            entries = {
                path.relative_to(lib).as_posix(): path
                for path in files
                if "__pycache__" not in path.parts and (path.is_dir() or path.suffix == ".py")
            }
            compiled = {name: stdlib_bytecode(path) for name, path in entries.items()}
            zipped = sum(ZIP_ENTRY_BYTES + 2 * len(name) + len(zlib.compress(code, 9))
                         for name, code in compiled.items())  # fmt: skip
            if zipped > sum(pyc.stat().st_size for pyc in written):
                for pyc in written:
                    copy = out / lib.name / pyc.relative_to(lib)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(pyc, copy)
                continue
            for name, code in compiled.items():
                if entries[name].is_dir():
                    zf.mkdir(name)
                else:
                    zf.writestr(name[:-3] + ".pyc", code)
    return archive


ZIP_ENTRY_BYTES = 76  # a zip entry's local header and central directory record, bar the name


def stdlib_bytecode(path: Path) -> bytes:
    """A source's bytecode, naming the source (b"" for a folder)."""
    if path.is_dir():
        return b""
    with tempfile.TemporaryDirectory() as scratch:
        compiled = Path(scratch) / "module.pyc"
        compile_to(compiled, path)
        return compiled.read_bytes()


def compile_to(pyc: Path, source: Path, *, shown_as: str | None = None) -> None:
    """Compile `source` into `pyc`, used without checking the source (nothing in the image
    edits it); tracebacks name `shown_as`, or the source itself."""
    py_compile.compile(
        str(source),
        cfile=str(pyc),
        dfile=shown_as,
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


if __name__ == "__main__":
    if sys.argv[1] == "--stdlib":
        packed = pack_stdlib(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1] == "--app":
        packed = pack_app(Path(sys.argv[2]), sys.argv[3])
    else:
        packed = pack(Path(sys.argv[1]))
    print(f"{packed}: {packed.stat().st_size / 1e6:.1f} MB")
