"""What the desktop app checks before it imports Qt: a UTF-8 locale, a display, and the system libraries of Qt's
platform plugin.

Without this, a missing library makes Qt abort (exit 134) with a hint that can name the wrong package ("xcb-cursor0
is needed" when libxcb-icccm4 is what lacks), and only for the first of several missing libraries. Here every
library the plugin's dependency tree misses is named in one line with the command that installs them
(imagestudio.system_packages), and the app exits with EXIT_CANNOT_START. Started from the desktop menu, where no
terminal shows stderr, the line also goes to a notification (or a small dialog) and to the journal
(`journalctl -t imagestudio`).

Standard library only, and it never imports PySide6: the plugin is found with importlib's find_spec and its
dependencies are read from the ELF files (imagestudio.libdeps). IMAGESTUDIO_SKIP_STARTUP_CHECK=1 skips the
display and library checks (the locale is still set).
"""

from __future__ import annotations

import importlib.util
import locale
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from imagestudio.libdeps import SearchPaths, resolve
from imagestudio.system_packages import DATA_FILES, Distribution, detect_distribution, install_command

EXIT_CANNOT_START = 69  # EX_UNAVAILABLE from sysexits.h
SKIP_ENV = "IMAGESTUDIO_SKIP_STARTUP_CHECK"
DESKTOP_LAUNCH_ENV = ("GIO_LAUNCHED_DESKTOP_FILE", "DESKTOP_STARTUP_ID", "XDG_ACTIVATION_TOKEN")
UTF8_FALLBACKS = ("C.UTF-8", "C.utf8", "en_US.UTF-8")
TITLE = "ImageStudio cannot start"


# ---- locale ----------------------------------------------------------------------------------------------------

def _is_utf8(name: str) -> bool:
    return "utf8" in name.lower().replace("-", "")


def _available(name: str) -> bool:
    """Whether the C library knows this locale (probed on LC_CTYPE, then restored)."""
    previous = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, name)
        return True
    except locale.Error:
        return False
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)


def ensure_utf8_locale(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Gives Qt a UTF-8 locale when the environment sets none (or C/POSIX, or one the system lacks).

    Returns the `NAME=value` it set, or None when it changed nothing. A UTF-8 locale the user chose is kept, and
    so is an available non-UTF-8 one (their choice; Qt copes and says so).
    """
    env = os.environ if environ is None else environ
    fallback = next((name for name in UTF8_FALLBACKS if _available(name)), None)
    if fallback is None:
        return None
    lc_all = env.get("LC_ALL", "")
    if lc_all:
        if lc_all in ("C", "POSIX") or not _available(lc_all):
            env["LC_ALL"] = fallback
            return f"LC_ALL={fallback}"
        return None
    # Qt calls setlocale(LC_ALL, ""), which fails as a whole when any category names a locale the system lacks.
    named = [v for k, v in env.items() if v and (k == "LANG" or (k.startswith("LC_") and k != "LC_ALL"))]
    if any(not _available(value) for value in named):
        env["LC_ALL"] = fallback
        return f"LC_ALL={fallback}"
    ctype = env.get("LC_CTYPE") or env.get("LANG") or ""
    if ctype in ("", "C", "POSIX"):
        env["LC_CTYPE"] = fallback
        return f"LC_CTYPE={fallback}"
    return None


# ---- Qt's platform plugin --------------------------------------------------------------------------------------

def pyside_dir() -> Path | None:
    """PySide6's package folder, found without importing it (in the frozen app: <bundle>/_internal/PySide6)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and (Path(frozen) / "PySide6").is_dir():
        return Path(frozen) / "PySide6"
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def requested_platforms(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[list[str], bool]:
    """The platform plugins Qt will try, in order, and whether the user named them (-platform, QT_QPA_PLATFORM)."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "-platform" and i + 1 < len(args):
            return [args[i + 1].split(":", 1)[0]], True
    if environ.get("QT_QPA_PLATFORM"):
        names = [n.split(":", 1)[0].strip() for n in environ["QT_QPA_PLATFORM"].split(";")]
        return [n for n in names if n], True
    # Qt's own default on Linux is xcb; a Wayland session switches it to wayland (XDG_SESSION_TYPE).
    if environ.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"], False
    return ["xcb"], False


def display_missing(platform: str, environ: Mapping[str, str]) -> str | None:
    """Why this platform has nothing to show windows on, or None."""
    if platform == "xcb" and not environ.get("DISPLAY"):
        return "DISPLAY is not set"
    if platform == "wayland" and not environ.get("WAYLAND_DISPLAY"):
        runtime = environ.get("XDG_RUNTIME_DIR")
        if not (runtime and (Path(runtime) / "wayland-0").exists()):
            return "WAYLAND_DISPLAY is not set"
    return None


def data_missing(platform: str, environ: Mapping[str, str], root: Path = Path("/")) -> list[str]:
    """Data files a window needs that are not there (see system_packages.DATA_FILES): fontconfig's configuration,
    unless FONTCONFIG_FILE/FONTCONFIG_PATH point elsewhere. Headless platforms (offscreen) are not held to it."""
    if platform not in ("xcb", "wayland") or environ.get("FONTCONFIG_FILE") or environ.get("FONTCONFIG_PATH"):
        return []
    return [path for path in DATA_FILES if not (root / path.lstrip("/")).exists()]


@dataclass(frozen=True)
class GuiCheck:
    platform: str | None  # the platform plugin that can run (None: none can)
    problem: str | None  # the one line for the user when the window cannot open
    missing: tuple[str, ...] = ()  # the sonames missing for the reported platform
    libraries: int = 0  # how many libraries the usable platform's tree resolved
    switched: bool = False  # the usable platform is not Qt's first choice: QT_QPA_PLATFORM must name it


def check_gui(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None,
              search: SearchPaths | None = None, distribution: Distribution | None = None,
              pyside: Path | None = None, as_root: bool | None = None, data_root: Path = Path("/")) -> GuiCheck:
    """Can Qt open a window here? Resolves the platform plugin's libraries and those of QtWidgets, per platform
    Qt would try; the first that has a display, all its libraries and the font configuration wins."""
    env = os.environ if environ is None else environ
    pyside = pyside or pyside_dir()
    if pyside is None:
        return GuiCheck(None, "imagestudio: the window cannot open: PySide6 is not installed for "
                              f"{sys.executable} (pip install PySide6-Essentials)")
    search = SearchPaths.from_environment(env) if search is None else search
    platforms, explicit = requested_platforms(argv, env)
    modules = sorted(p for name in ("QtCore", "QtGui", "QtWidgets") for p in pyside.glob(f"{name}.*so"))
    failures: list[tuple[str, str | None, list[str]]] = []
    for index, platform in enumerate(platforms):
        plugin = pyside / "Qt" / "plugins" / "platforms" / f"libq{platform}.so"
        if not plugin.is_file():  # not a plugin this PySide6 has: Qt itself lists the ones it has
            return GuiCheck(platform, None)
        no_display = display_missing(platform, env)
        resolution = resolve([plugin, *modules], search)
        missing = sorted(resolution.missing) + data_missing(platform, env, data_root)
        if no_display is None and not missing:
            return GuiCheck(platform, None, (), len(resolution.found), switched=index > 0 and not explicit)
        failures.append((platform, no_display, missing))

    # Nothing can run. Installing libraries helps where a display exists; otherwise the display is the news.
    with_display = [f for f in failures if f[1] is None]
    platform, no_display, missing = with_display[0] if with_display else failures[0]
    if missing and no_display is None:
        distribution = distribution or detect_distribution()
        command = install_command(missing, distribution, as_root)
        return GuiCheck(None, f"imagestudio: the window cannot open: Qt's {platform} platform plugin needs "
                              f"{', '.join(missing)}, not installed on {distribution.name}; install "
                              f"{'it' if len(missing) == 1 else 'them'} with: {command}", tuple(missing))
    reasons = " and ".join(f[1] for f in failures if f[1])
    return GuiCheck(None, f"imagestudio: the window cannot open: no display to show it on ({reasons}); start it "
                          "in a desktop session (the command line works anywhere: imagestudio --help)",
                    tuple(missing))


# ---- telling the user ------------------------------------------------------------------------------------------

def launched_from_desktop(environ: Mapping[str, str], stream=None) -> bool:
    """Started from a menu or file manager (a desktop entry), where nobody sees stderr."""
    if any(environ.get(name) for name in DESKTOP_LAUNCH_ENV):
        return True
    stream = sys.stderr if stream is None else stream
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return True


def show_to_user(message: str, environ: Mapping[str, str]) -> list[str]:
    """Puts the message where a desktop user sees it; returns the channels that took it.

    A notification (notify-send) first, else a dialog (zenity, kdialog, xmessage: none of them needs Qt), and
    always the journal when a syslog socket exists.
    """
    env = dict(environ)
    path = env.get("PATH", os.defpath)
    body = message.removeprefix("imagestudio: ")
    channels: list[str] = []
    attempts = [("notify-send", ["--app-name=ImageStudio", "--icon=imagestudio", "--urgency=critical", TITLE, body])]
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        attempts += [("zenity", ["--error", f"--title={TITLE}", "--no-markup", f"--text={body}"]),
                     ("kdialog", ["--title", TITLE, "--error", body]),
                     ("xmessage", ["-center", f"{TITLE}: {body}"])]
    for tool, args in attempts:
        program = shutil.which(tool, path=path)
        if program is None:
            continue
        try:
            # Dialogs wait for the user's click; a notification returns at once.
            done = subprocess.run([program, *args], env=env, timeout=None if tool != "notify-send" else 10,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 or (tool != "notify-send" and done.returncode == 1):  # 1: dialog closed
            channels.append(tool)
            break
    if Path("/dev/log").exists():
        import syslog

        syslog.openlog("imagestudio", 0, syslog.LOG_USER)
        syslog.syslog(syslog.LOG_ERR, message)
        syslog.closelog()
        channels.append("journal")
    return channels


# ---- the entry point's side -------------------------------------------------------------------------------------

def prepare_gui(argv: Sequence[str], environ: MutableMapping[str, str] | None = None) -> int | None:
    """Runs before `imagestudio.ui` is imported: sets the locale, then returns None when the window can open, or
    the exit status after telling the user why it cannot."""
    env = os.environ if environ is None else environ
    ensure_utf8_locale(env)
    if env.get(SKIP_ENV) == "1":
        return None
    result = check_gui(argv, env)
    if result.problem is None:
        if result.switched and result.platform:
            env["QT_QPA_PLATFORM"] = result.platform  # Qt's first choice would abort; start on the one that works
        return None
    print(result.problem, file=sys.stderr, flush=True)
    if launched_from_desktop(env):
        show_to_user(result.problem, env)
    return EXIT_CANNOT_START


def report_gui_check(argv: Sequence[str], environ: MutableMapping[str, str] | None = None) -> int:
    """`imagestudio --check-gui`: says whether the window can open here, and why not; 0 or EXIT_CANNOT_START."""
    env = os.environ if environ is None else environ
    changed = ensure_utf8_locale(env)
    result = check_gui(argv, env)
    if changed:
        print(f"imagestudio: no usable UTF-8 locale was set; the app sets {changed}")
    if result.problem:
        print(result.problem, file=sys.stderr)
        return EXIT_CANNOT_START
    print(f"imagestudio: the window can open: Qt's {result.platform} platform plugin and the "
          f"{result.libraries} libraries it and QtWidgets link to are all found")
    return 0
