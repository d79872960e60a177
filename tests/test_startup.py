"""The start-up check (imagestudio.startup, imagestudio.libdeps): on the real Qt platform plugin of this venv.

A missing library is made missing by giving the resolver a system folder without it (a folder of links to every
system library but the hidden ones), never by patching the code under test. The resolver is held to `ldd`,
`objdump -p` and the real loader (ctypes) on the same files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from imagestudio import startup
from imagestudio.libdeps import SearchPaths, read_elf, resolve
from imagestudio.system_packages import SONAME_PACKAGES, Distribution, detect_distribution, install_command

REPO = Path(__file__).resolve().parents[1]
PYSIDE = startup.pyside_dir()
pytestmark = pytest.mark.skipif(PYSIDE is None or not sys.platform.startswith("linux"),
                                reason="needs PySide6 on Linux")
XCB = PYSIDE / "Qt" / "plugins" / "platforms" / "libqxcb.so" if PYSIDE else Path()
DEBIAN = Distribution("debian", "Debian GNU/Linux 12 (bookworm)")
X11 = {"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb", "PATH": os.defpath}
# What the xcb plugin's tree lacks on this machine as it is (empty where all of Qt's xcb libraries are installed).
HOST_MISSING = set(resolve([XCB], SearchPaths.from_environment({})).missing) if PYSIDE else set()


def system_without(tmp_path: Path, *hidden: str) -> SearchPaths:
    """This machine's library search path, flattened into one folder of links that lacks `hidden`."""
    folder = Path(tempfile.mkdtemp(prefix="system-libs-", dir=tmp_path))
    for directory in SearchPaths.from_environment({}).system:
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            link = folder / entry.name
            if entry.name not in hidden and not link.exists() and not link.is_symlink():
                link.symlink_to(entry)
    return SearchPaths(library_path=(), system=(folder,))


def ldd(path: Path) -> dict[str, str | None]:
    """soname -> resolved real path (None: 'not found'), as the real loader reports it."""
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True, env=env).stdout
    found: dict[str, str | None] = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (not found|(\S+) \(0x)", line)
        if m:
            found[m.group(1)] = None if m.group(2) == "not found" else os.path.realpath(m.group(3))
    return found


# ---- the ELF reader and the resolver, held to binutils, ldd and the loader ------------------------------------

@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs binutils' objdump")
def test_elf_reader_agrees_with_objdump_on_the_xcb_plugin():
    dump = subprocess.run(["objdump", "-p", str(XCB)], capture_output=True, text=True, check=True).stdout
    info = read_elf(XCB)
    assert list(info.needed) == re.findall(r"^\s*NEEDED\s+(\S+)$", dump, re.M)
    assert list(info.runpath) == [p for m in re.findall(r"^\s*RUNPATH\s+(\S+)$", dump, re.M) for p in m.split(":")]
    assert "libxcb-icccm.so.4" in info.needed and info.machine == 62  # x86-64


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_resolution_of_the_xcb_plugin_agrees_with_ldd():
    ours = resolve([XCB], SearchPaths.from_environment({}))
    theirs = ldd(XCB)
    # ldd prints the loader itself (ld-linux) without "=>": compare the rest.
    assert {name: os.path.realpath(path) for name, path in ours.found.items() if not name.startswith("ld-")} == {
        name: path for name, path in theirs.items() if path is not None}
    assert sorted(ours.missing) == sorted(name for name, path in theirs.items() if path is None)


def test_a_plugin_cut_off_from_its_qt_libraries_fails_in_the_loader_as_predicted(tmp_path):
    """A copy of libqxcb.so outside PySide6: its RUNPATH ($ORIGIN/../../lib) now leads nowhere. The real loader
    (ctypes, in a child process) must fail on a library the resolver lists as missing."""
    plugin = tmp_path / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    shutil.copy2(XCB, plugin)
    predicted = resolve([plugin], SearchPaths.from_environment({}))
    assert {"libQt6XcbQpa.so.6", "libQt6Gui.so.6", "libQt6Core.so.6"} <= set(predicted.missing)
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    probe = subprocess.run([sys.executable, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])", str(plugin)],
                           capture_output=True, text=True, env=env)
    assert probe.returncode != 0
    failed = re.search(r"(\S+\.so[.\d]*): cannot open shared object file", probe.stderr)
    assert failed is not None, probe.stderr
    assert failed.group(1) in predicted.missing

    # And the plugin where it belongs loads exactly when the resolver says it will.
    loaded = subprocess.run([sys.executable, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])", str(XCB)],
                            capture_output=True, text=True, env=env)
    assert (loaded.returncode == 0) is (not HOST_MISSING), loaded.stderr


# ---- what the user is told ---------------------------------------------------------------------------------------
# A machine may itself lack some xcb libraries (this image once lacked libxcb-icccm4 and libxcb-keysyms1): those
# are expected to be reported too, beside the ones a test hides.

def expected(*hidden: str) -> tuple[str, ...]:
    return tuple(sorted(set(hidden) | HOST_MISSING))


def apt_words(sonames: tuple[str, ...]) -> str:
    return " ".join(dict.fromkeys(SONAME_PACKAGES[s][0] for s in sonames))


def test_the_two_missing_xcb_libraries_are_named_with_the_apt_command(tmp_path):
    search = system_without(tmp_path, "libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    result = startup.check_gui([], X11, search=search, distribution=DEBIAN, as_root=False)
    assert result.platform is None
    assert result.missing == expected("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert "\n" not in result.problem
    assert result.problem.endswith(f"install them with: sudo apt install {apt_words(result.missing)}")
    if not HOST_MISSING:  # the case, word for word
        assert result.problem.endswith("install them with: sudo apt install libxcb-icccm4 libxcb-keysyms1")
        assert "Qt's xcb platform plugin needs libxcb-icccm.so.4, libxcb-keysyms.so.1" in result.problem


def test_a_library_missing_deeper_in_the_tree_is_found_too(tmp_path):
    """libXau is not the plugin's own dependency but libxcb's: the whole tree is walked, as the loader does."""
    assert "libXau.so.6" not in read_elf(XCB).needed
    result = startup.check_gui([], X11, search=system_without(tmp_path, "libXau.so.6"), distribution=DEBIAN,
                               as_root=True)
    assert result.missing == expected("libXau.so.6")
    assert "libxau6" in result.problem.split("apt install ")[1].split()
    if not HOST_MISSING:
        assert result.problem.endswith("install it with: apt install libxau6")


def test_a_missing_font_configuration_is_named_with_its_package(tmp_path):
    """A bundled fontconfig with no /etc/fonts/fonts.conf finds no font: every label of the window is blank."""
    search = system_without(tmp_path, "libxcb-shape.so.0")
    result = startup.check_gui([], X11, search=search, distribution=DEBIAN, as_root=True, data_root=tmp_path)
    assert result.missing == (*expected("libxcb-shape.so.0"), "/etc/fonts/fonts.conf")
    assert result.problem.endswith(f"install them with: apt install {apt_words(result.missing)}")
    assert result.problem.endswith(" fontconfig-config")
    fedora = startup.check_gui([], X11, search=search, distribution=Distribution("fedora", "Fedora"),
                               as_root=True, data_root=tmp_path)
    assert "'libxcb-shape.so.0()(64bit)'" in fedora.problem and fedora.problem.endswith(" /etc/fonts/fonts.conf")
    # FONTCONFIG_FILE names a configuration elsewhere; a headless platform draws no fonts for a user.
    complete = system_without(tmp_path)
    pointed = startup.check_gui([], {**X11, "FONTCONFIG_FILE": "/opt/fonts.conf"}, search=complete,
                                distribution=DEBIAN, data_root=tmp_path)
    assert pointed.missing == expected()
    offscreen = startup.check_gui([], {"QT_QPA_PLATFORM": "offscreen"}, search=complete, data_root=tmp_path)
    assert offscreen.problem is None


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_this_system_passes_exactly_when_ldd_finds_every_library(tmp_path):
    result = startup.check_gui([], X11, search=system_without(tmp_path), distribution=DEBIAN)
    ldd_missing = {name for name, path in ldd(XCB).items() if path is None}
    assert (result.problem is None) is (not ldd_missing)
    assert set(result.missing) == ldd_missing
    if result.problem is None:
        assert result.platform == "xcb" and result.libraries > 20


def test_wayland_session_without_the_wayland_libraries_starts_on_xcb(tmp_path):
    if HOST_MISSING:
        pytest.skip(f"xcb cannot start here either (this machine lacks {sorted(HOST_MISSING)})")
    env = {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    search = system_without(tmp_path, "libwayland-cursor.so.0")
    result = startup.check_gui([], env, search=search, distribution=DEBIAN)
    assert (result.platform, result.problem, result.switched) == ("xcb", None, True)
    # ... unless the user insisted on Wayland.
    insisted = startup.check_gui([], {**env, "QT_QPA_PLATFORM": "wayland"}, search=search, distribution=DEBIAN)
    assert insisted.platform is None and "libwayland-cursor.so.0" in insisted.problem


@pytest.mark.parametrize(("os_release", "command"), [
    ('ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"', "sudo apt install libxcb-icccm4 libxcb-keysyms1"),
    ('ID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"', "sudo apt install libxcb-icccm4 libxcb-keysyms1"),
    ('ID=fedora\nPRETTY_NAME="Fedora Linux 40"',
     "sudo dnf install 'libxcb-icccm.so.4()(64bit)' 'libxcb-keysyms.so.1()(64bit)'"),
    ('ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"',
     "sudo zypper install 'libxcb-icccm.so.4()(64bit)' 'libxcb-keysyms.so.1()(64bit)'"),
    ('ID=arch\nPRETTY_NAME="Arch Linux"', "sudo pacman -S xcb-util-wm xcb-util-keysyms"),
    ('ID=gentoo\nPRETTY_NAME="Gentoo Linux"',
     "install the packages of Gentoo Linux that provide libxcb-icccm.so.4, libxcb-keysyms.so.1"),
])
def test_install_command_per_distribution(tmp_path, os_release, command):
    (tmp_path / "os-release").write_text(os_release + "\n")
    distribution = detect_distribution(tmp_path / "os-release")
    assert install_command(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"], distribution, as_root=False) == command


def test_a_library_outside_the_table_gets_a_search_command():
    assert install_command(["libfoo.so.3", "libxcb-shape.so.0"], DEBIAN, as_root=True) == (
        "apt install libxcb-shape0; find the package of libfoo.so.3 with: apt-file search libfoo.so.3")


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg (Debian/Ubuntu)")
def test_the_debian_package_table_matches_dpkg():
    """Every table entry whose file is installed here is owned by the package the table names (one dpkg -S)."""
    search = SearchPaths.from_environment({})
    spellings: dict[str, str] = {}  # each path dpkg may know the file by (merged /usr: /lib and /usr/lib) -> soname
    for soname in SONAME_PACKAGES:
        path = Path(soname) if soname.startswith("/") else next(
            (d / soname for d in search.system if (d / soname).exists()), None)
        if path is None or not path.exists():
            continue
        for p in {str(path), os.path.realpath(path)}:
            spellings[p] = soname
            if p.startswith("/usr/lib/"):
                spellings[p[4:]] = soname
            elif p.startswith("/lib/"):
                spellings["/usr" + p] = soname
    out = subprocess.run(["dpkg", "-S", *spellings], capture_output=True, text=True).stdout
    owners: dict[str, set[str]] = {}
    for line in out.splitlines():
        packages, _, path = line.partition(": ")
        if path in spellings:
            owners.setdefault(spellings[path], set()).update(
                name.strip().split(":")[0] for name in packages.split(","))
    wrong = {soname: (SONAME_PACKAGES[soname][0], sorted(found)) for soname, found in owners.items()
             if SONAME_PACKAGES[soname][0] not in found}
    assert not wrong
    assert len(owners) >= 25  # Qt's stack is installed here; a handful checked would prove little


# ---- the entry point, end to end in a child process -----------------------------------------------------------

def run_entry(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent("""
        import sys
        from imagestudio.__main__ import main
        status = main(sys.argv[1:])
        print("qt-imported" if "PySide6" in sys.modules else "qt-not-imported")
        sys.exit(status)
    """)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)


def headless_env(**extra: str) -> dict[str, str]:
    drop = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE", *startup.DESKTOP_LAUNCH_ENV,
            startup.SKIP_ENV)
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


def test_no_display_exits_69_with_one_line_before_qt_loads(tmp_path):
    done = run_entry(headless_env(PATH=str(tmp_path)), "photo.jpg")
    assert done.returncode == startup.EXIT_CANNOT_START, done.stderr
    assert done.stdout.strip() == "qt-not-imported"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "DISPLAY is not set" in lines[0]


def test_a_desktop_launch_also_notifies(tmp_path):
    """Started from a menu: the line goes to notify-send (a stand-in here that records its arguments)."""
    record = tmp_path / "notified.txt"
    fake = tmp_path / "bin" / "notify-send"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    fake.chmod(0o755)
    env = headless_env(PATH=f"{fake.parent}:{os.defpath}",
                       GIO_LAUNCHED_DESKTOP_FILE="/usr/share/applications/imagestudio.desktop")
    done = run_entry(env, "photo.jpg")
    assert done.returncode == startup.EXIT_CANNOT_START
    arguments = record.read_text().splitlines()
    assert "--urgency=critical" in arguments and startup.TITLE in arguments
    assert any("DISPLAY is not set" in a for a in arguments)


def test_check_gui_flag_reports_the_offscreen_plugin_ready():
    done = run_entry(headless_env(QT_QPA_PLATFORM="offscreen"), "--check-gui")
    assert done.returncode == 0, done.stderr
    assert "the window can open: Qt's offscreen platform plugin" in done.stdout
    assert "qt-not-imported" in done.stdout


# ---- the locale ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("before", "after", "changed"), [
    ({}, {"LC_CTYPE": "C.UTF-8"}, "LC_CTYPE=C.UTF-8"),
    ({"LANG": "C"}, {"LANG": "C", "LC_CTYPE": "C.UTF-8"}, "LC_CTYPE=C.UTF-8"),
    ({"LC_ALL": "POSIX"}, {"LC_ALL": "C.UTF-8"}, "LC_ALL=C.UTF-8"),
    ({"LANG": "xx_NOWHERE.UTF-8"}, {"LANG": "xx_NOWHERE.UTF-8", "LC_ALL": "C.UTF-8"}, "LC_ALL=C.UTF-8"),
    ({"LANG": "C.UTF-8"}, {"LANG": "C.UTF-8"}, None),
    ({"LC_ALL": "C.UTF-8", "LANG": "C"}, {"LC_ALL": "C.UTF-8", "LANG": "C"}, None),
])
def test_utf8_locale_is_set_only_when_none_usable_is(before, after, changed):
    env = dict(before)
    assert startup.ensure_utf8_locale(env) == changed
    assert env == after


@pytest.mark.parametrize("fix", [False, True])
def test_qt_sees_a_utf8_locale_when_none_was_set(fix):
    """The control run (no fix) must show Qt's warning, or this test would prove nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k != "LANG"}
    env.update(PYTHONCOERCECLOCALE="0", QT_QPA_PLATFORM="offscreen")  # Python would otherwise coerce C itself
    code = textwrap.dedent(f"""
        from imagestudio.startup import ensure_utf8_locale
        if {fix}:
            ensure_utf8_locale()
        from PySide6.QtCore import QCoreApplication
        app = QCoreApplication([])
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("Detected locale" in done.stderr) is (not fix), done.stderr
