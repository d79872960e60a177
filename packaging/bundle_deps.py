#!/usr/bin/env python3
"""What a PyInstaller bundle needs from the system it is installed on, computed from the bundle itself.

    python3 packaging/bundle_deps.py BUNDLE [--user-provided REGEX] [--json OUT]

Every ELF file in BUNDLE is read (DT_NEEDED, RPATH/RUNPATH: imagestudio.libdeps) and its libraries are resolved
the way the loader will resolve them in the frozen app: the bundle's own folder first (the PyInstaller bootloader
puts `_internal/` on LD_LIBRARY_PATH), then the system. What resolves inside the bundle is carried; what resolves
outside is a system dependency: its Debian package comes from `dpkg -S` and its minimum version from the
package's shlibs file (as dpkg-shlibdeps does without symbols files), its RPM form is the soname provide
(`libfoo.so.1()(64bit)`), and the glibc floor is the newest GLIBC_x.y symbol version any bundled binary asks for
(`objdump -p`). A library that resolves nowhere fails the run (exit 1), naming it and the binaries that need it:
PyInstaller silently skips libraries the build machine lacks, so this is where an incomplete bundle is caught.
--user-provided names sonames that are the user's by design (the CUDA flavour's CUDA and cuDNN libraries): they
are neither required nor a failure, wherever they resolve on the build machine.

Standard library plus imagestudio.libdeps from this checkout; run it with the system python3 or the build venv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imagestudio.libdeps import SearchPaths, is_elf, resolve  # noqa: E402

# The CUDA flavour's provider library links to these; they come from the user's NVIDIA install (and must match the
# driver), so they are neither bundled nor required. `--user-provided cuda` means this pattern.
CUDA_LIBRARIES = (r"^(libcuda|libcudart|libcublas|libcublasLt|libcufft|libcurand|libcusparse|libcusolver|libcudnn"
                  r"|libnvrtc|libnvJitLink|libnvinfer|libnccl)[^/]*\.so")
GLIBC_SONAMES = re.compile(r"^(ld-linux.*|libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libmvec)\.so")


def bundle_elfs(bundle: Path) -> list[Path]:
    return sorted(p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))


def dpkg_owners(paths: list[Path]) -> dict[Path, str]:
    """The Debian package owning each library file, in one `dpkg -S` (each file under its /lib and /usr/lib
    spellings, resolved and not: merged /usr). Files no package owns are left out."""
    spellings: dict[str, Path] = {}
    for path in paths:
        for p in (str(path), os.path.realpath(path)):
            spellings.setdefault(p, path)
            if p.startswith("/usr/lib/"):
                spellings.setdefault(p[4:], path)
            elif p.startswith("/lib/"):
                spellings.setdefault("/usr" + p, path)
    if not spellings:
        return {}
    try:
        out = subprocess.run(["dpkg", "-S", *spellings], capture_output=True, text=True).stdout
    except FileNotFoundError:  # not a Debian system: no Debian package names
        return {}
    owners: dict[Path, str] = {}
    for line in out.splitlines():
        packages, _, spelled = line.partition(": ")
        if spelled in spellings and not packages.startswith("diversion"):
            owners.setdefault(spellings[spelled], packages.split(",")[0].split(":")[0].strip())
    return owners


def shlibs_dependency(package: str, soname: str, info: Path = Path("/var/lib/dpkg/info")) -> str:
    """`libxcb1 (>= 1.12)` from the package's shlibs file, else the bare package name."""
    m = re.match(r"^(.+)\.so\.(.+)$", soname) or re.match(r"^(.+?)-?([0-9][0-9.]*)\.so$", soname)
    if m:
        library, version = m.groups()
        for shlibs in (info / f"{package}:amd64.shlibs", info / f"{package}.shlibs"):
            if not shlibs.is_file():
                continue
            for line in shlibs.read_text().splitlines():
                fields = line.split(None, 2)
                if len(fields) == 3 and fields[:2] == [library, version]:
                    return fields[2].strip()
    return package


def glibc_floor(elfs: list[Path]) -> str | None:
    """The newest GLIBC_x.y symbol version the binaries require (objdump -p's version references)."""
    newest: tuple[int, ...] = ()
    for start in range(0, len(elfs), 64):
        out = subprocess.run(["objdump", "-p", *map(str, elfs[start:start + 64])], capture_output=True,
                             text=True).stdout
        for version in re.findall(r"\bGLIBC_([0-9]+(?:\.[0-9]+)+)\b", out):
            newest = max(newest, tuple(int(x) for x in version.split(".")))
    return ".".join(map(str, newest)) or None


def analyse(bundle: Path, user_provided: str | None = None) -> dict:
    elfs = bundle_elfs(bundle)
    internal = bundle / "_internal"
    # Each binary on its own (as ldd sees it): none may rely on another having been loaded first.
    resolution = resolve(elfs, SearchPaths(library_path=(internal if internal.is_dir() else bundle,)),
                         together=False)
    inside = bundle.resolve()
    users = re.compile(CUDA_LIBRARIES if user_provided == "cuda" else user_provided) if user_provided else None
    missing = {name: sorted(str(p.relative_to(bundle)) for p in needers)
               for name, needers in sorted(resolution.missing.items())}
    unresolved = {n: b for n, b in missing.items() if not (users and users.search(n))}
    left_to_user = sorted(n for n in {*missing, *resolution.places} if users and users.search(n))
    outside: dict[str, Path] = {}
    carried = 0
    for soname, places in sorted(resolution.places.items()):
        if users and users.search(soname):
            continue
        elsewhere = sorted(p for p in places if not Path(os.path.realpath(p)).is_relative_to(inside))
        if elsewhere:
            outside[soname] = elsewhere[0]
        else:
            carried += 1
    owners = dpkg_owners(list(outside.values())) if not unresolved else {}
    system = {soname: {"path": str(path), "package": owners.get(path),
                       "debian": shlibs_dependency(owners[path], soname) if path in owners else None,
                       "rpm": f"{soname}()(64bit)"}
              for soname, path in outside.items()}
    glibc = glibc_floor(elfs) if not unresolved and any(GLIBC_SONAMES.match(s) for s in system) else None
    return {"bundle": str(bundle), "binaries": len(elfs), "carried": carried, "system": system,
            "glibc": glibc, "user_provided": left_to_user,
            "unresolved": unresolved, "unreadable": {str(k): v for k, v in resolution.unreadable.items()}}


def debian_depends(report: dict) -> list[str]:
    """One Depends entry per package: glibc's floor from the symbol versions, the others from their shlibs."""
    entries: dict[str, str] = {}
    for soname, lib in report["system"].items():
        package = lib["package"]
        if package is None:
            raise SystemExit(f"bundle_deps: no Debian package owns {lib['path']} ({soname}); cannot name it in "
                             "Depends")
        if GLIBC_SONAMES.match(soname) and report["glibc"]:
            entries[package] = f"{package} (>= {report['glibc']})"
        else:
            entries.setdefault(package, lib["debian"])
    return [entries[p] for p in sorted(entries)]


def rpm_requires(report: dict) -> list[str]:
    requires = [lib["rpm"] for s, lib in report["system"].items() if not GLIBC_SONAMES.match(s)]
    if report["glibc"]:
        requires.append(f"libc.so.6(GLIBC_{report['glibc']})(64bit)")
    requires += [lib["rpm"] for s, lib in report["system"].items() if GLIBC_SONAMES.match(s)]
    return sorted(dict.fromkeys(requires))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--user-provided", help="regex of sonames the user provides (not bundled, not required); "
                                                "'cuda': CUDA and cuDNN")
    parser.add_argument("--json", type=Path, help="write the full report here")
    args = parser.parse_args()
    if shutil.which("objdump") is None:
        print("bundle_deps: objdump is missing (apt-get install binutils)", file=sys.stderr)
        return 2
    report = analyse(args.bundle, args.user_provided)
    if not report["binaries"]:
        print(f"bundle_deps: no ELF binary in {args.bundle}", file=sys.stderr)
        return 1
    if report["unresolved"]:
        lines = [f"  {name}  (needed by {', '.join(needers[:3])}{' ...' if len(needers) > 3 else ''})"
                 for name, needers in report["unresolved"].items()]
        print("bundle_deps: these libraries are neither in the bundle nor on this build machine, so the package "
              "would not start where they are missing:\n" + "\n".join(lines) +
              "\ninstall them on the build machine (PyInstaller then bundles them or they become Depends), or "
              "drop the binaries that need them in packaging/imagestudio.spec", file=sys.stderr)
        return 1
    report["debian_depends"] = debian_depends(report) if report["system"] else []
    report["rpm_requires"] = rpm_requires(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"bundle_deps: {report['binaries']} binaries; {report['carried']} libraries carried, "
          f"{len(report['system'])} from the system: {', '.join(sorted(report['system']))}")
    if report["user_provided"]:
        print(f"bundle_deps: left to the user by design: {', '.join(report['user_provided'])}")
    print(f"bundle_deps: glibc >= {report['glibc']}; Depends: {', '.join(report['debian_depends'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
