#!/usr/bin/env python3
"""Smoke tests on a fresh minimal Debian 12, not on the build machine: what a new user's system really has.

    sudo python3 packaging/clean_root_smoke.py deb     PACKAGE.deb
    sudo python3 packaging/clean_root_smoke.py tarball PACKAGE.tar.gz
    sudo python3 packaging/clean_root_smoke.py readme  [--line 1|2] [--command CMD]
    common options: [--cache DIR] [--refresh] [--report FILE]

The root is `debootstrap --variant=minbase bookworm` (88 packages, no X, no Python), made once and cached in
packaging/.build/clean-root/ (--refresh remakes it); each test runs on a throw-away overlay of it, so it starts
from the same clean state every time, with downloaded .debs and apt lists cached beside it.

deb      `apt-get install ./PACKAGE.deb` (counts what it pulls in), then BEFORE any test tool is installed: `ldd`
         over every binary of /opt/imagestudio must find every library, and the app's start-up check
         (`imagestudio --check-gui`) must pass; the CLI upscales a photo; then xvfb and xdotool are installed in the
         root, the GUI is started on a photo under Xvfb inside and its window title must name ImageStudio and the
         photo; `apt-get purge` must leave no file in /opt or /usr that no other package owns.
tarball  unpacked with nothing else installed: the launcher must refuse to start with exit 69 and one line naming
         the missing libraries and the apt command; that command, run as printed, must be enough for
         `--check-gui` to pass and for the window to open (Xvfb inside, as above); install.sh and --uninstall.
readme   README.md's line 1 (install and launch) or line 2 (install and test) run as written, from a copy of the
         committed tree (`git archive HEAD`), as root with `sudo` meaning "run it": line 1's window is looked
         for on an Xvfb of the build machine whose socket is shared into the root, so no X package is installed
         in the root that line 1 does not install itself. Line 2 uses this machine's pip configuration (its
         find-links hold the CPU torch wheel CI uses), since a fresh machine would fetch the CUDA torch from PyPI.
         Both get this machine's CA bundle as PIP_CERT, for a network that reaches PyPI through a TLS proxy.

Needs root (mount, chroot), debootstrap (to make the cache) and network access to deb.debian.org (and PyPI for
`readme`). Standard library only. Prints what it measured and exits non-zero, naming what failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bundle_deps import CUDA_LIBRARIES  # noqa: E402
PHOTO = HERE / "testdata" / "coffee.jpg"
SMALL = HERE / "testdata" / "coffee-150x100.png"
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
MARKER = ".imagestudio-clean-root"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What may appear in /opt or /usr after the package is gone, owned by no package: caches the triggers rebuild.
CACHES = re.compile(r"(mimeinfo\.cache|icon-theme\.cache|gschemas\.compiled|ld\.so\.cache|__pycache__/.*|"
                    r"\.pyc|loaders\.cache|giomodule\.cache|fonts/.*\.cache-\d+)$")


class SmokeFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def say(message: str) -> None:
    print(f"clean-root: {message}", flush=True)


class Timer:
    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.steps[name] = round(time.monotonic() - started, 1)
            say(f"{name}: {self.steps[name]:.1f} s")


# ---- the cached root and its overlays ---------------------------------------------------------------------------

def ensure_cache(cache: Path, refresh: bool, timer: Timer) -> Path:
    pristine = cache / f"{SUITE}-minbase"
    if (pristine / MARKER).is_file() and not refresh:
        return pristine
    check(shutil.which("debootstrap") is not None, "debootstrap is missing (apt-get install debootstrap)")
    partial = cache / f"{SUITE}-minbase.partial"
    for old in (partial, pristine):
        if old.exists():
            shutil.rmtree(old)
    cache.mkdir(parents=True, exist_ok=True)
    with timer.step("debootstrap --variant=minbase (once; cached)"):
        done = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(partial), MIRROR],
                              capture_output=True, text=True)
    (cache / "debootstrap.log").write_text(done.stdout + done.stderr)
    check(done.returncode == 0, f"debootstrap failed (log: {cache / 'debootstrap.log'}):\n{done.stderr[-2000:]}")
    (partial / MARKER).write_text(f"debootstrap --variant=minbase {SUITE} {MIRROR}\n{time.ctime()}\n")
    partial.rename(pristine)
    return pristine


class CleanRoot:
    """A writable overlay on the pristine root, with /proc, a fresh /dev/shm and the apt caches mounted."""

    def __init__(self, pristine: Path, cache: Path) -> None:
        self.pristine, self.cache = pristine, cache
        self.scratch = Path(tempfile.mkdtemp(prefix="imagestudio-clean-root-"))
        self.path = self.scratch / "root"
        self.mounts: list[Path] = []

    def __enter__(self) -> CleanRoot:
        upper, work = self.scratch / "upper", self.scratch / "work"
        for d in (upper, work, self.path):
            d.mkdir()
        self._mount(["-t", "overlay", "overlay", "-o",
                     f"lowerdir={self.pristine},upperdir={upper},workdir={work}"], self.path)
        self._mount(["-t", "proc", "proc"], self.path / "proc")
        self._mount(["-t", "tmpfs", "-o", "mode=1777", "tmpfs"], self.path / "dev" / "shm")
        for name, inside in (("apt-archives", "var/cache/apt/archives"), ("apt-lists", "var/lib/apt/lists")):
            (self.cache / name / "partial").mkdir(parents=True, exist_ok=True)
            self._mount(["--bind", str(self.cache / name)], self.path / inside)
        shutil.copy2("/etc/resolv.conf", self.path / "etc" / "resolv.conf")
        # The commands under test are run as printed: apt must not stop to ask.
        (self.path / "etc/apt/apt.conf.d/90assume-yes").write_text('APT::Get::Assume-Yes "true";\n')
        return self

    def _mount(self, args: list[str], target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", *args, str(target)], check=True)
        self.mounts.append(target)

    def bind(self, source: Path, inside: str, readonly: bool = False) -> None:
        self._mount(["--bind", str(source)], self.path / inside)
        if readonly:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(self.path / inside)], check=True)

    def __exit__(self, *exc) -> None:
        for target in reversed(self.mounts):
            if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(target)], capture_output=True)
        mounted = Path("/proc/self/mountinfo").read_text()
        if str(self.scratch) in mounted:  # never delete through a mount (it could reach the host's files)
            say(f"WARNING: mounts remain under {self.scratch}; left in place")
            return
        for sub in ("upper", "work"):
            shutil.rmtree(self.scratch / sub, ignore_errors=True)
        self.path.rmdir()
        self.scratch.rmdir()

    def env(self, **extra: str) -> list[str]:
        """A login-like environment of a minimal system: no LANG, no DISPLAY unless given."""
        base = {"PATH": PATH, "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive", "TERM": "dumb"}
        return [f"{k}={v}" for k, v in {**base, **extra}.items()]

    def run(self, command: str, timeout: float = 1200, check_rc: bool = True,
            **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["chroot", str(self.path), "/usr/bin/env", "-i", *self.env(**env), "/bin/bash", "-c",
                               command], capture_output=True, text=True, timeout=timeout)
        if check_rc and done.returncode != 0:
            raise SmokeFailure(f"in the clean root, `{command[:200]}` exited {done.returncode}:\n"
                               f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def popen(self, command: str, log: Path, **env: str) -> subprocess.Popen:
        with log.open("w") as out:
            return subprocess.Popen(["chroot", str(self.path), "/usr/bin/env", "-i", *self.env(**env), "/bin/bash",
                                     "-c", f"exec {command}"], stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def files(self, *tops: str) -> set[str]:
        found = set()
        for top in tops:
            for p in (self.path / top).rglob("*"):
                if not p.is_dir() or p.is_symlink():
                    found.add("/" + str(p.relative_to(self.path)))
        return found

    def owned(self) -> set[str]:
        owned: set[str] = set()
        for listing in (self.path / "var/lib/dpkg/info").glob("*.list"):
            for line in listing.read_text(errors="replace").splitlines():
                owned.add(line.strip())
                if line.startswith(("/lib/", "/lib64/", "/bin/", "/sbin/")):  # merged /usr: /lib is /usr/lib
                    owned.add("/usr" + line.strip())
        return owned

    def installed_packages(self) -> set[str]:
        out = self.run("dpkg-query -W -f '${Package} ${Status}\\n'").stdout
        return {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])


def apt_install(root: CleanRoot, what: str, timer: Timer, label: str) -> dict:
    """apt-get install in the root; returns what it pulled in."""
    before = root.installed_packages()
    with timer.step(label):
        done = root.run(f"apt-get install -y --no-install-recommends {what}")
    size = re.search(r"After this operation, ([0-9.,]+ [kMG]B) of additional disk space", done.stdout)
    added = sorted(root.installed_packages() - before)
    say(f"{label}: {len(added)} packages, {size.group(1) if size else '?'} installed")
    return {"packages": added, "count": len(added), "disk": size.group(1) if size else None}


# ---- the GUI under Xvfb inside the root --------------------------------------------------------------------------

def gui_in_root(root: CleanRoot, launcher: str, work: Path, timer: Timer, display: str = ":99") -> dict:
    """Starts the app on the photo under an Xvfb running in the root; times the window and reads its title."""
    shutil.copy2(PHOTO, root.path / "tmp" / PHOTO.name)
    xvfb = root.popen(f"Xvfb {display} -screen 0 1280x800x24 -nolisten tcp", work / "xvfb.log")
    app = None
    try:
        socket = root.path / "tmp" / ".X11-unix" / f"X{display[1:]}"
        deadline = time.monotonic() + 20
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        check(socket.exists(), f"Xvfb did not start in the root:\n{(work / 'xvfb.log').read_text()}")
        log = work / "app.log"
        started = time.monotonic()
        app = root.popen(f"{launcher} /tmp/{PHOTO.name}", log, DISPLAY=display)
        window, first, title = None, None, ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            check(app.poll() is None, f"the app exited {app.returncode} in the root:\n{log.read_text()}")
            found = root.run("xdotool search --onlyvisible --name ImageStudio", check_rc=False, DISPLAY=display)
            if found.returncode == 0 and found.stdout.split():
                window = found.stdout.split()[0]
                first = first or time.monotonic() - started
                title = root.run(f"xdotool getwindowname {window}", DISPLAY=display).stdout.strip()
                if PHOTO.name in title:
                    break
            time.sleep(0.1)
        opened = time.monotonic() - started
        check(window is not None, f"no ImageStudio window appeared within 90 s:\n{log.read_text()}")
        check(PHOTO.name in title, f"the window title {title!r} never named {PHOTO.name}:\n{log.read_text()}")
        time.sleep(0.5)  # let it settle, then read what it printed
        output = log.read_text()
        check("Traceback" not in output, f"the app printed a traceback:\n{output}")
        check("Detected locale" not in output, f"Qt complained about the locale:\n{output}")
        check("Fontconfig error" not in output, f"fontconfig found no configuration (no fonts):\n{output}")
        say(f"window {title!r}: first window {first:.2f} s, photo open {opened:.2f} s after start")
        timer.steps["GUI: first window (s)"] = round(first, 2)
        timer.steps["GUI: photo open (s)"] = round(opened, 2)
        return {"title": title, "first_window_s": round(first, 2), "photo_open_s": round(opened, 2),
                "app_output": output.strip().splitlines()[-5:]}
    finally:
        if app is not None:
            stop(app)
        stop(xvfb)


def check_cli(root: CleanRoot, command: str) -> str:
    shutil.copy2(SMALL, root.path / "tmp" / SMALL.name)
    version = root.run(f"{command} --version").stdout.strip()
    check(version.startswith("imagestudio "), f"--version printed {version!r}")
    listing = root.run(f"{command} models").stdout
    check(re.search(r"\bupscale\b.*×4", listing) is not None, f"no ×4 upscaler listed:\n{listing}")
    root.run(f"{command} upscale /tmp/{SMALL.name} -o /tmp/upscaled.png --scale 4")
    size = png_size(root.path / "tmp" / "upscaled.png")
    check(size == (600, 400), f"upscale wrote {size}, not 600×400")
    say(f"CLI: {version}; upscale ×4 wrote 600×400")
    return version


# ---- the tests ------------------------------------------------------------------------------------------------

def test_deb(root: CleanRoot, deb: Path, work: Path, timer: Timer) -> dict:
    report: dict = {"package": deb.name, "size_mb": round(deb.stat().st_size / 2**20, 1)}
    with timer.step("apt-get update"):
        root.run("apt-get update -qq")
    before_files = root.files("opt", "usr")
    shutil.copy2(deb, root.path / "tmp" / deb.name)
    report["install"] = apt_install(root, f"/tmp/{deb.name}", timer, "apt-get install ./the.deb")

    # Before anything else is installed: does every bundled binary find its libraries here?
    opt = root.path / "opt" / "imagestudio"
    elfs = [p for p in opt.rglob("*") if p.is_file() and not p.is_symlink() and p.open("rb").read(4) == b"\x7fELF"]
    listing = root.path / "tmp" / "elfs.txt"
    listing.write_text("\n".join("/" + str(p.relative_to(root.path)) for p in elfs) + "\n")
    with timer.step(f"ldd over the {len(elfs)} bundled binaries"):
        ldd = root.run("xargs -d '\\n' -n 32 ldd < /tmp/elfs.txt 2>&1", check_rc=False,
                       LD_LIBRARY_PATH="/opt/imagestudio/_internal")
    missing = sorted({line.split()[0] for line in ldd.stdout.splitlines() if "not found" in line})
    users = sorted(name for name in missing if re.search(CUDA_LIBRARIES, name))  # the CUDA flavour's, by design
    missing = [name for name in missing if name not in users]
    check(not missing, f"after apt-get install of the .deb alone, bundled binaries miss: {missing}")
    say(f"ldd: all {len(elfs)} bundled binaries find every library"
        + (f" but the user's CUDA libraries ({', '.join(users)}), as designed" if users else ""))
    report["left_to_the_user"] = users
    gui_check = root.run("imagestudio --check-gui", check_rc=False, DISPLAY=":99")
    check(gui_check.returncode == 0, f"--check-gui failed: {gui_check.stdout}{gui_check.stderr}")
    say(" ".join(gui_check.stdout.split()))
    report["check_gui"] = gui_check.stdout.strip()
    report["cli"] = check_cli(root, "imagestudio")

    report["test_tools"] = apt_install(root, "xvfb xdotool", timer, "apt-get install xvfb xdotool")
    report["gui"] = gui_in_root(root, "imagestudio", work, timer)

    name = subprocess.run(["dpkg-deb", "--field", str(deb), "Package"], capture_output=True, text=True,
                          check=True).stdout.strip()
    with timer.step("apt-get purge"):
        root.run(f"apt-get purge -y {name}")
    left_in_opt = sorted((root.path / "opt").iterdir()) if (root.path / "opt").exists() else []
    check(not left_in_opt, f"/opt is not empty after purge: {left_in_opt}")
    new = root.files("opt", "usr") - before_files
    named = sorted(p for p in new | root.files("opt", "usr") if "imagestudio" in p.lower())
    check(not named, f"files named imagestudio left after purge: {named[:5]}")
    stray = sorted(p for p in new - root.owned() if not CACHES.search(p))
    check(not stray, f"after purge, files no package owns are left in /usr: {stray[:10]}")
    say(f"purged: /opt empty, no file of ImageStudio left; {len(new)} new files in /usr all belong to the "
        "dependencies and test tools still installed")
    return report


def test_tarball(root: CleanRoot, archive: Path, work: Path, timer: Timer) -> dict:
    report: dict = {"package": archive.name, "size_mb": round(archive.stat().st_size / 2**20, 1)}
    shutil.copy2(archive, root.path / "tmp" / archive.name)
    with timer.step("unpack the .tar.gz"):
        root.run(f"mkdir -p /root/apps && tar -xzf /tmp/{archive.name} -C /root/apps")
    folder = "/root/apps/" + archive.name.removesuffix(".tar.gz")
    launcher = f"{folder}/imagestudio"

    # Nothing installed but the minimal system: the start-up check must say what is missing, and how to get it.
    started = time.monotonic()
    refused = root.run(f"{launcher} /tmp/none.jpg", check_rc=False, DISPLAY=":99")
    refused_s = time.monotonic() - started
    lines = refused.stderr.strip().splitlines()
    check(refused.returncode == 69, f"the launcher exited {refused.returncode}, not 69:\n{refused.stderr}")
    check(len(lines) == 1, f"the refusal is not one line:\n{refused.stderr}")
    command = re.search(r"install (?:it|them) with: (apt install .+)$", lines[0])
    check(command is not None, f"no apt command in the refusal: {lines[0]}")
    say(f"refused in {refused_s:.2f} s, exit 69: {lines[0]}")
    report["refusal"] = lines[0]
    report["refusal_s"] = round(refused_s, 2)
    report["cli_without_libraries"] = check_cli(root, launcher)  # the CLI never needs Qt's libraries

    with timer.step("apt-get update"):
        root.run("apt-get update -qq")
    before = root.installed_packages()
    with timer.step("the printed apt command"):
        root.run(command.group(1))
    report["printed_command"] = command.group(1)
    report["printed_command_pulled"] = len(root.installed_packages() - before)
    gui_check = root.run(f"{launcher} --check-gui", check_rc=False, DISPLAY=":99")
    check(gui_check.returncode == 0, f"after the printed command, --check-gui still fails: {gui_check.stderr}")
    say(" ".join(gui_check.stdout.split()))

    installed = root.run(f"{folder}/install.sh")
    say("install.sh: " + " ".join(installed.stdout.split()))
    for path in ("/root/.local/share/applications/imagestudio.desktop", "/root/.local/bin/imagestudio",
                 "/root/.local/share/icons/hicolor/256x256/apps/imagestudio.png"):
        check(root.run(f"test -e {path}", check_rc=False).returncode == 0, f"install.sh did not make {path}")
    report["test_tools"] = apt_install(root, "xvfb xdotool", timer, "apt-get install xvfb xdotool")
    report["gui"] = gui_in_root(root, "/root/.local/bin/imagestudio", work, timer)
    root.run(f"{folder}/install.sh --uninstall")
    left = [p for p in root.files("root/.local") if not CACHES.search(p)]
    check(not left, f"install.sh --uninstall left {left[:5]}")
    say("install.sh --uninstall: nothing left in ~/.local")
    return report


def readme_line(number: int) -> str:
    return (REPO / "README.md").read_text().splitlines()[number - 1].strip()


def test_readme(root: CleanRoot, number: int, work: Path, timer: Timer, command: str | None = None) -> dict:
    line = command or readme_line(number)
    report: dict = {"line": number, "command": line}
    say(f"README line {number}: {line}")
    checkout = root.path / "root" / "imagestudio"
    checkout.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(checkout)], input=archive, check=True)
    shim = 'sudo() { "$@"; }; export -f sudo; '  # root in the clean root; a desktop user types sudo
    # Where this machine reaches PyPI through a TLS-inspecting proxy, pip needs the machine's CA bundle (PIP_CERT
    # names it here); a fresh root trusts only Debian's own CAs. Nothing else of the host's setup goes in.
    proxy_ca = {}
    host_ca = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
    if host_ca.is_file():
        shutil.copy2(host_ca, root.path / "etc" / "build-machine-ca.crt")
        proxy_ca = {"PIP_CERT": "/etc/build-machine-ca.crt"}
    with timer.step("apt-get update"):
        root.run("apt-get update -qq")
    before = root.installed_packages()
    if number == 2:
        # This machine's pip setup, as CI has it: its find-links hold the CPU torch wheel.
        for conf in ("etc/pip.conf", "etc/xdg/pip"):
            source = Path("/") / conf
            if source.is_dir():
                shutil.copytree(source, root.path / conf, dirs_exist_ok=True)
            elif source.is_file():
                (root.path / conf).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, root.path / conf)
        for folder in ("opt/wheels", "opt/pypi", "opt/pypi-more"):
            if (Path("/") / folder).is_dir():
                root.bind(Path("/") / folder, folder, readonly=True)
        with timer.step("README line 2 (install and test)"):
            done = root.run(f"{shim}cd /root/imagestudio && {line}", check_rc=False, timeout=5400,
                            PIP_FIND_LINKS=os.environ.get("PIP_FIND_LINKS", "/opt/wheels"), **proxy_ca)
        (root.cache / "readme-line2.log").write_text(done.stdout + done.stderr)  # kept: the whole test run
        summary = [ln for ln in done.stdout.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
        report["pytest"] = summary[-1] if summary else None
        report["exit"] = done.returncode
        report["tail"] = (done.stdout + done.stderr).strip().splitlines()[-15:]
        check(done.returncode == 0, f"README line 2 exited {done.returncode} (whole output: "
                                    f"{root.cache / 'readme-line2.log'}):\n" + "\n".join(report["tail"]))
        say(f"README line 2: {report['pytest']}")
    else:
        check(shutil.which("Xvfb") and shutil.which("xdotool"), "line 1 needs Xvfb and xdotool on this machine")
        display = f":{150 + os.getpid() % 50}"
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        app = None
        try:
            root.bind(Path("/tmp/.X11-unix"), "tmp/.X11-unix")
            log = work / "line1.log"
            started = time.monotonic()
            app = root.popen(f"bash -c {shquote(shim + 'cd /root/imagestudio && ' + line)}", log, DISPLAY=display,
                             **proxy_ca)
            host = {**os.environ, "DISPLAY": display}
            deadline = time.monotonic() + 3000
            title = ""
            while time.monotonic() < deadline:
                check(app.poll() is None, f"README line 1 exited {app.returncode}:\n{log.read_text()[-3000:]}")
                found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "ImageStudio"], env=host,
                                       capture_output=True, text=True)
                if found.returncode == 0 and found.stdout.split():
                    title = subprocess.run(["xdotool", "getwindowname", found.stdout.split()[0]], env=host,
                                           capture_output=True, text=True).stdout.strip()
                    break
                time.sleep(0.5)
            elapsed = time.monotonic() - started
            check(bool(title), f"README line 1 opened no window in {elapsed:.0f} s:\n{log.read_text()[-3000:]}")
            time.sleep(1)
            output = log.read_text()
            check("Traceback" not in output, f"README line 1: the app printed a traceback:\n{output[-3000:]}")
            check("Detected locale" not in output, f"README line 1: Qt complained about the locale:\n{output}")
            timer.steps["README line 1 to window"] = round(elapsed, 1)
            report["window_title"] = title
            report["seconds_to_window"] = round(elapsed, 1)
            venv = root.path / "root" / "imagestudio" / ".venv"
            report["venv_mb"] = round(sum(p.stat().st_size for p in venv.rglob("*") if p.is_file()
                                          and not p.is_symlink()) / 2**20)
            say(f"README line 1: window {title!r} after {elapsed:.0f} s (apt + venv + pip + start); "
                f"venv {report['venv_mb']} MB")
        finally:
            if app is not None:
                stop(app)
            stop(xvfb)
    added = sorted(root.installed_packages() - before)
    report["apt_packages_pulled"] = len(added)
    return report


def shquote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("test", choices=("deb", "tarball", "readme"))
    parser.add_argument("package", type=Path, nargs="?", help="the .deb or .tar.gz")
    parser.add_argument("--line", type=int, choices=(1, 2), default=1, help="readme: which line (default 1)")
    parser.add_argument("--command", help="readme: run this instead of the line (to try a variant of it)")
    parser.add_argument("--cache", type=Path, default=HERE / ".build" / "clean-root")
    parser.add_argument("--refresh", action="store_true", help="debootstrap the cached root again")
    parser.add_argument("--report", type=Path, help="write the measurements as JSON here")
    args = parser.parse_args()
    check(os.geteuid() == 0, "needs root (mount, chroot): sudo python3 packaging/clean_root_smoke.py ...")
    check(args.test == "readme" or (args.package is not None and args.package.is_file()),
          f"{args.test} needs an existing package file")
    timer = Timer()
    started = time.monotonic()
    pristine = ensure_cache(args.cache, args.refresh, timer)
    with tempfile.TemporaryDirectory(prefix="imagestudio-clean-root-logs-") as logs, \
            CleanRoot(pristine, args.cache) as root:
        work = Path(logs)
        if args.test == "deb":
            report = test_deb(root, args.package.resolve(), work, timer)
        elif args.test == "tarball":
            report = test_tarball(root, args.package.resolve(), work, timer)
        else:
            report = test_readme(root, args.line, work, timer, args.command)
    report["steps_s"] = timer.steps
    report["total_s"] = round(time.monotonic() - started, 1)
    report["root"] = f"debootstrap --variant=minbase {SUITE} (cached in {args.cache})"
    target = args.report or args.cache / f"report-{args.test}{args.line if args.test == 'readme' else ''}.json"
    target.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    say(f"PASSED in {report['total_s']:.0f} s (report: {target})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SmokeFailure as failure:
        print(f"\nCLEAN-ROOT SMOKE TEST FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
