"""Which system package provides a missing shared library, and the one command that installs it.

Debian/Ubuntu and Arch name packages by hand here (checked against `dpkg -S` on Debian 12 by the tests);
Fedora/RHEL and openSUSE need no table: dnf and zypper install a library by its soname provide,
`libxcb-icccm.so.4()(64bit)`. The table covers what Qt's platform plugins (xcb, wayland) and QtGui/QtWidgets
link to; a library outside it is named with the distribution's search command instead of a guess.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# soname: (Debian/Ubuntu package, Arch package)
SONAME_PACKAGES: dict[str, tuple[str, str]] = {
    "libGL.so.1": ("libgl1", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd"),
    "libGLX.so.0": ("libglx0", "libglvnd"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd"),
    "libX11.so.6": ("libx11-6", "libx11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libx11"),
    "libXau.so.6": ("libxau6", "libxau"),
    "libXdmcp.so.6": ("libxdmcp6", "libxdmcp"),
    "libXext.so.6": ("libxext6", "libxext"),
    "libXrender.so.1": ("libxrender1", "libxrender"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libwayland-client.so.0": ("libwayland-client0", "wayland"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "wayland"),
    "libwayland-egl.so.1": ("libwayland-egl1", "wayland"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype2"),
    "libharfbuzz.so.0": ("libharfbuzz0b", "harfbuzz"),
    "libgraphite2.so.3": ("libgraphite2-3", "graphite"),
    "libpng16.so.16": ("libpng16-16", "libpng"),
    "libjpeg.so.62": ("libjpeg62-turbo", "libjpeg-turbo"),
    "libbrotlidec.so.1": ("libbrotli1", "brotli"),
    "libbrotlicommon.so.1": ("libbrotli1", "brotli"),
    "libexpat.so.1": ("libexpat1", "expat"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgobject-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgio-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgmodule-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libpcre2-8.so.0": ("libpcre2-8-0", "pcre2"),
    "libffi.so.8": ("libffi8", "libffi"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus"),
    "libsystemd.so.0": ("libsystemd0", "systemd-libs"),
    "libbsd.so.0": ("libbsd0", "libbsd"),
    "libmd.so.0": ("libmd0", "libmd"),
    "libdrm.so.2": ("libdrm2", "libdrm"),
    "libz.so.1": ("zlib1g", "zlib"),
    "libzstd.so.1": ("libzstd1", "zstd"),
    "liblzma.so.5": ("liblzma5", "xz"),
    "liblz4.so.1": ("liblz4-1", "lz4"),
    "libssl.so.3": ("libssl3", "openssl"),
    "libcrypto.so.3": ("libssl3", "openssl"),
    "libstdc++.so.6": ("libstdc++6", "gcc-libs"),
    "libgcc_s.so.1": ("libgcc-s1", "gcc-libs"),
}


# Data files Qt reads through the libraries above, named by path: with no font configuration fontconfig finds no
# font and every label is blank. (A system fontconfig library depends on them; a bundled one cannot.) dnf and
# zypper install a file by its path, like a soname.
DATA_FILES: dict[str, tuple[str, str]] = {
    "/etc/fonts/fonts.conf": ("fontconfig-config", "fontconfig"),
}
SONAME_PACKAGES.update(DATA_FILES)


@dataclass(frozen=True)
class Distribution:
    family: str  # debian, fedora, suse, arch or unknown
    name: str  # PRETTY_NAME, for messages


def detect_distribution(os_release: Path = Path("/etc/os-release")) -> Distribution:
    fields: dict[str, str] = {}
    for candidate in (os_release, Path("/usr/lib/os-release")):
        try:
            text = candidate.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip("\"'")
        break
    ids = {fields.get("ID", "").lower(), *fields.get("ID_LIKE", "").lower().split()}
    name = fields.get("PRETTY_NAME") or fields.get("NAME") or "this system"
    for family, members in (("debian", {"debian", "ubuntu"}), ("fedora", {"fedora", "rhel", "centos"}),
                            ("suse", {"suse", "opensuse", "sles"}), ("arch", {"arch", "archlinux"})):
        if ids & members or (family == "suse" and any(i.startswith("opensuse") for i in ids)):
            return Distribution(family, name)
    return Distribution("unknown", name)


def _rpm_provide(soname: str) -> str:
    return soname if soname.startswith("/") else f"{soname}()(64bit)"


def install_command(sonames: Iterable[str], distribution: Distribution, as_root: bool | None = None) -> str:
    """The one command that installs what provides these sonames (prefixed with sudo unless run as root)."""
    sonames = list(dict.fromkeys(sonames))
    root = os.geteuid() == 0 if as_root is None else as_root
    sudo = "" if root else "sudo "
    family = distribution.family
    if family in ("fedora", "suse"):
        tool = "dnf install" if family == "fedora" else "zypper install"
        return sudo + tool + " " + " ".join(shlex.quote(_rpm_provide(s)) for s in sonames)
    if family == "unknown":
        return "install the packages of " + distribution.name + " that provide " + ", ".join(sonames)
    column = 1 if family == "arch" else 0
    known = list(dict.fromkeys(SONAME_PACKAGES[s][column] for s in sonames if s in SONAME_PACKAGES))
    unknown = [s for s in sonames if s not in SONAME_PACKAGES]
    parts = []
    if known:
        parts.append(sudo + ("pacman -S " if family == "arch" else "apt install ") + " ".join(known))
    if unknown:
        finder = "pacman -F" if family == "arch" else "apt-file search"
        parts.append("find the package of " + ", ".join(unknown) + " with: " + "; ".join(f"{finder} {s}"
                                                                                    for s in unknown))
    return "; ".join(parts)


def debian_packages(sonames: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(SONAME_PACKAGES[s][0] for s in sonames if s in SONAME_PACKAGES))
