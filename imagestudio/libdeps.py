"""Which shared libraries a binary needs, and where the dynamic loader would find them (a small `ldd` in Python).

Reads the ELF dynamic section (DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME) and searches the way glibc's ld.so does:
the requester's DT_RPATH chain (when it has no DT_RUNPATH), LD_LIBRARY_PATH, its DT_RUNPATH, then the system
directories (those of /etc/ld.so.conf, which ldconfig caches, and the built-in defaults). A library already
loaded under that name satisfies later requests, as in the loader. Nothing is loaded or executed, so a missing
library is reported together with every other missing one, not one crash at a time.

Standard library only: the start-up check (imagestudio.startup) runs it before Qt is imported, and the packaging
scripts run it over the whole bundle.
"""

from __future__ import annotations

import glob
import os
import struct
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_DT_NEEDED, _DT_STRTAB, _DT_SONAME, _DT_RPATH, _DT_RUNPATH = 1, 5, 14, 15, 29
_PT_LOAD, _PT_DYNAMIC = 1, 2


class NotElfError(ValueError):
    """The file is not an ELF shared object or executable this module can read."""


@dataclass(frozen=True)
class ElfInfo:
    path: Path
    elf_class: int  # 1: 32-bit, 2: 64-bit
    machine: int  # e_machine (62: x86-64)
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def read_elf(path: Path) -> ElfInfo:
    """The dynamic-linking facts of one ELF file (reads headers only, also for a 300 MB library)."""
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
                raise NotElfError(f"{path} is not an ELF file")
            bits64, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
            header = struct.unpack(order + ("HHIQQQIHHHHHH" if bits64 else "HHIIIIIHHHHHH"),
                                   f.read(48 if bits64 else 36))
            machine, phoff, phentsize, phnum = header[1], header[4], header[8], header[9]
            ph_format = order + ("IIQQQQQQ" if bits64 else "IIIIIIII")
            loads, dynamic = [], None
            f.seek(phoff)
            for raw in (f.read(phentsize) for _ in range(phnum)):
                fields = struct.unpack(ph_format, raw[:struct.calcsize(ph_format)])
                if bits64:
                    p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = fields
                else:
                    p_type, p_offset, p_vaddr, _, p_filesz, _, _, _ = fields
                if p_type == _PT_LOAD:
                    loads.append((p_vaddr, p_offset, p_filesz))
                elif p_type == _PT_DYNAMIC:
                    dynamic = (p_offset, p_filesz)
            if dynamic is None:  # a static binary: needs nothing
                return ElfInfo(Path(path), ident[4], machine, None, (), (), ())
            f.seek(dynamic[0])
            data = f.read(dynamic[1])
            entry = order + ("qQ" if bits64 else "iI")
            size = struct.calcsize(entry)
            tags: list[tuple[int, int]] = []
            for pos in range(0, len(data) - size + 1, size):
                tag, value = struct.unpack_from(entry, data, pos)
                if tag == 0:
                    break
                tags.append((tag, value))
            strtab = next((v for t, v in tags if t == _DT_STRTAB), None)
            if strtab is None:
                raise NotElfError(f"{path}: dynamic section without a string table")
            base = next((off + strtab - vaddr for vaddr, off, filesz in loads if vaddr <= strtab < vaddr + filesz),
                        None)
            if base is None:
                raise NotElfError(f"{path}: the dynamic string table lies outside every loaded segment")

            def string(offset: int) -> str:
                f.seek(base + offset)
                chunk = b""
                while b"\0" not in chunk:
                    more = f.read(256)
                    if not more:
                        break
                    chunk += more
                return chunk.split(b"\0", 1)[0].decode("utf-8", "replace")

            def paths(tag: int) -> tuple[str, ...]:
                return tuple(p for t, v in tags if t == tag for p in string(v).split(":") if p)

            soname = next((string(v) for t, v in tags if t == _DT_SONAME), None)
            needed = tuple(string(v) for t, v in tags if t == _DT_NEEDED)
            return ElfInfo(Path(path), ident[4], machine, soname, needed, paths(_DT_RPATH), paths(_DT_RUNPATH))
    except (OSError, struct.error) as error:
        raise NotElfError(f"{path}: {error}") from error


def _multiarch() -> str:
    return getattr(sys.implementation, "_multiarch", "") or "x86_64-linux-gnu"


def default_library_dirs() -> tuple[Path, ...]:
    """The loader's built-in directories (searched after the ld.so.cache): Debian's multiarch ones, then lib64."""
    arch = _multiarch()
    return tuple(Path(p) for p in (f"/lib/{arch}", f"/usr/lib/{arch}", "/lib64", "/usr/lib64", "/lib", "/usr/lib"))


def ld_so_conf_dirs(conf: Path = Path("/etc/ld.so.conf"), _seen: set[Path] | None = None) -> list[Path]:
    """The directories /etc/ld.so.conf names, following its `include` lines (what ldconfig puts in the cache)."""
    seen = set() if _seen is None else _seen
    if conf in seen:
        return []
    seen.add(conf)
    try:
        lines = conf.read_text(errors="replace").splitlines()
    except OSError:
        return []
    dirs: list[Path] = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("hwcap "):
            continue
        if line.startswith("include "):
            pattern = line.split(None, 1)[1].strip()
            if not os.path.isabs(pattern):
                pattern = str(conf.parent / pattern)
            for included in sorted(glob.glob(pattern)):
                dirs += ld_so_conf_dirs(Path(included), seen)
        else:
            dirs += [Path(p) for p in line.replace(",", " ").split() if os.path.isabs(p)]
    return dirs


@dataclass(frozen=True)
class SearchPaths:
    """Where libraries are looked for after a binary's own RPATH/RUNPATH.

    library_path: LD_LIBRARY_PATH (a PyInstaller bundle's bootloader puts the bundle's folder there);
    system: what the ld.so.cache and the built-in defaults cover. Tests pass their own `system` to make a
    library "missing" without touching the machine.
    """

    library_path: tuple[Path, ...] = ()
    system: tuple[Path, ...] = field(default_factory=lambda: _system_dirs())

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None,
                         system: Iterable[Path] | None = None) -> SearchPaths:
        env = os.environ if environ is None else environ
        library_path = tuple(Path(p) for p in env.get("LD_LIBRARY_PATH", "").split(":") if p)
        return cls(library_path, tuple(system) if system is not None else _system_dirs())


def _system_dirs() -> tuple[Path, ...]:
    dirs: list[Path] = []
    for d in [*ld_so_conf_dirs(), *default_library_dirs()]:
        if d not in dirs:
            dirs.append(d)
    return tuple(dirs)


@dataclass
class Resolution:
    """The dependency closure of some binaries: each soname found (and where), and each missing one with the
    binaries that need it."""

    found: dict[str, Path] = field(default_factory=dict)  # the first place each soname was found
    places: dict[str, set[Path]] = field(default_factory=dict)  # every place (together=False: roots may differ)
    missing: dict[str, list[Path]] = field(default_factory=dict)
    unreadable: dict[Path, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing


def _expand(entry: str, origin: Path) -> Path:
    for token in ("${ORIGIN}", "$ORIGIN"):
        entry = entry.replace(token, str(origin))
    for token in ("${LIB}", "$LIB"):
        entry = entry.replace(token, f"lib/{_multiarch()}")
    return Path(entry)


def _compatible(candidate: Path, requester: ElfInfo, read) -> ElfInfo | None:
    """The candidate's ELF info when the loader would accept it for this requester (same class and machine)."""
    if not candidate.is_file():
        return None
    try:
        info = read(candidate)
    except NotElfError:
        return None
    return info if (info.elf_class, info.machine) == (requester.elf_class, requester.machine) else None


def resolve(roots: Iterable[Path], search: SearchPaths | None = None, together: bool = True) -> Resolution:
    """Resolves the full dependency closure of `roots`, each loaded by path (as Qt loads a plugin).

    together=True: into one process, in order, so a library one root brought in serves the others (what the
    start-up check asks: will these plugins load into the app). together=False: each root on its own, as `ldd`
    sees it (what a bundle check asks: does every binary find its libraries without help from another).
    """
    search = SearchPaths.from_environment() if search is None else search
    cache: dict[Path, ElfInfo] = {}

    def read(path: Path) -> ElfInfo:
        if path not in cache:
            cache[path] = read_elf(path)
        return cache[path]

    result = Resolution()
    infos: list[ElfInfo] = []
    for root in roots:
        try:
            infos.append(read(Path(root)))
        except NotElfError as error:
            result.unreadable[Path(root)] = str(error)
    groups = [infos] if together else [[info] for info in infos]
    for group in groups:
        _walk(group, search, read, result)
    return result


def _walk(roots: list[ElfInfo], search: SearchPaths, read, result: Resolution) -> None:
    loaded: set[str] = set()
    # Breadth-first, like the loader: (the object, the DT_RPATH directories of its loader chain).
    queue: list[tuple[ElfInfo, tuple[Path, ...]]] = []
    for info in roots:
        loaded.update(n for n in (info.soname, info.path.name) if n)
        queue.append((info, ()))
    while queue:
        info, chain = queue.pop(0)
        origin = info.path.parent
        own_rpath = () if info.runpath else tuple(_expand(p, origin) for p in info.rpath)
        rpath = own_rpath + chain if not info.runpath else ()
        runpath = tuple(_expand(p, origin) for p in info.runpath)
        for name in info.needed:
            if name in loaded:
                continue
            dirs = () if "/" in name else (*rpath, *search.library_path, *runpath, *search.system)
            candidates = [Path(name)] if "/" in name else [d / name for d in dirs]
            hit = next(((c, i) for c in candidates if (i := _compatible(c, info, read)) is not None), None)
            if hit is None:
                needers = result.missing.setdefault(name, [])
                if info.path not in needers:
                    needers.append(info.path)
                continue
            path, dep = hit
            loaded.add(name)
            if dep.soname:
                loaded.add(dep.soname)
            result.found.setdefault(name, path)
            result.places.setdefault(name, set()).add(path)
            queue.append((dep, own_rpath + chain))
