#!/usr/bin/env python3
"""Smoke test of an ImageStudio package: install it, start the installed app on a photo, upscale through its CLI,
remove it and check nothing is left.

    python3 packaging/smoke_test.py PACKAGE [--system] [--runs N]

PACKAGE is the .deb, the .rpm or the portable .tar.gz (build.sh makes all three from one bundle):
  .deb     installed with dpkg into a temporary root (nothing on the machine changes); --system installs it on this
           machine with apt-get (which also resolves its Depends, as in CI) and removes it afterwards;
  .rpm     `rpm -qlp`/`rpm -qp --requires` read, then installed with `rpm --root` into a temporary root (a fresh
           rpm database, so --nodeps: the Requires are listed, not resolved; this machine is not an RPM system);
  .tar.gz  unpacked, then install.sh puts the menu entry, icons and command into a private XDG_DATA_HOME/BIN_DIR.
The .deb and .rpm run from their temporary root on this machine's libraries; packaging/clean_root_smoke.py is the
test on a system that has nothing but the package's dependencies.
Standard library only: it must run where no Python packages are installed. Exits non-zero, naming what failed.

Checks, in order:
  1. the files: /opt/imagestudio bundle, /usr/bin/imagestudio launcher, desktop entry (with the image MIME types),
     hicolor icons, no torch / training / CUDA libraries inside (the portable archive: the same, in its folder and
     where install.sh put them); the launcher's start-up check (`--check-gui`);
  2. `imagestudio --version` and `imagestudio models` (a bundled ×4 upscale model must be listed);
  3. `imagestudio upscale` of a 150×100 photo ×4, on --device auto and --device cuda (which must fall back to the
     CPU cleanly where CUDA cannot run): the PNG written must be 600×400 and, reduced ×4, match the input; the
     CUDA flavour also with a stub NVIDIA driver and no CUDA libraries (needs a C compiler);
  4. the GUI opens coffee.jpg: offscreen, when the app honours IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN=1 (it prints
     "imagestudio-smoke: shown <seconds> s, title <window title>" and quits), and on a virtual X server (Xvfb +
     xdotool, when installed), where the time to the first window is measured from outside;
  5. removal (dpkg --purge, rpm -e, install.sh --uninstall) leaves no file behind.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PHOTO = HERE / "testdata" / "coffee.jpg"  # 600×400, opened in the GUI
SMALL = HERE / "testdata" / "coffee-150x100.png"  # upscaled ×4 by the CLI
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/tiff", "image/bmp")
GUI_TIMEOUT_S = 60.0
OFFSCREEN_WAIT_S = 30.0  # without the hook the app just runs: give up on it after this
SMOKE_LINE = re.compile(r"imagestudio-smoke: shown ([0-9.]+) s(?:, title (.*))?")


class SmokeFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def say(message: str) -> None:
    print(f"smoke: {message}", flush=True)


# ---- installing -------------------------------------------------------------------------------------------------

def install_into_root(deb: Path, root: Path) -> None:
    """dpkg --root with an empty package database: a real dpkg install, Depends not enforced (nothing is there)."""
    admin = root / "var" / "lib" / "dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True, exist_ok=True)
    (admin / "status").touch()
    (admin / "available").touch()
    run(["dpkg", f"--root={root}", "--force-depends", "--force-not-root", "--force-script-chrootless",
         f"--log={root / 'dpkg.log'}", "--no-triggers", "-i", str(deb)])


def install_rpm_into_root(package: Path, root: Path) -> str:
    """rpm --root with a fresh database; --nodeps because that database holds nothing that provides a soname."""
    listing = run(["rpm", "-qlp", str(package)]).stdout.split()
    for wanted in ("/opt/imagestudio/imagestudio", "/usr/bin/imagestudio",
                   "/usr/share/applications/imagestudio.desktop"):
        check(wanted in listing, f"rpm -qlp: {wanted} is not in the package")
    requires = run(["rpm", "-qp", "--requires", str(package)]).stdout.split("\n")
    check(any(r.startswith("libGL.so.1()") for r in requires), f"rpm Requires lack libGL.so.1: {requires}")
    check(not any("libQt6" in r or "libpython" in r for r in requires),
          "rpm Requires name libraries the bundle carries (rpm's own dependency generator ran?)")
    say(f"rpm: {len(listing)} files; Requires: {' '.join(r for r in requires if r)}")
    run(["rpm", "--root", str(root), "--initdb"])
    unresolved = run(["rpm", "--root", str(root), "-i", "--test", "--nosignature", str(package)],
                     check_rc=False).stderr
    check("libGL.so.1()(64bit) is needed" in unresolved,
          f"rpm -i --test into an empty root should report the unresolved Requires:\n{unresolved}")
    run(["rpm", "--root", str(root), "-i", "--nodeps", "--nosignature", str(package)])
    return run(["rpm", "-qp", "--qf", "%{NAME}", str(package)]).stdout.strip()


def unpack_portable(archive: Path, work: Path, env: dict[str, str]) -> tuple[Path, Path, Path]:
    """Unpacks the archive and runs its install.sh for a private user: (the folder, XDG_DATA_HOME, BIN_DIR)."""
    run(["tar", "-xzf", str(archive), "-C", str(work)])
    folders = [p for p in work.iterdir() if p.is_dir() and p.name.endswith("-linux-x86_64")]
    check(len(folders) == 1, f"{archive.name} should hold one <name>-linux-x86_64 folder, has {folders}")
    folder = folders[0]
    for name in ("imagestudio", "install.sh", "README.txt", "COPYRIGHT", "app/imagestudio"):
        check((folder / name).exists(), f"the archive lacks {name}")
    data, bin_dir = work / "user" / "share", work / "user" / "bin"
    installed = run(["sh", str(folder / "install.sh")], {**env, "XDG_DATA_HOME": str(data),
                                                           "BIN_DIR": str(bin_dir)})
    say(f"install.sh: {' '.join(installed.stdout.split())}")
    return folder, data, bin_dir


def leftovers(root: Path) -> list[str]:
    """Files (not folders) still under root/opt and root/usr."""
    return sorted(str(p.relative_to(root)) for top in ("opt", "usr") for p in (root / top).rglob("*")
                  if not p.is_dir())


def install_on_system(deb: Path) -> str:
    package = run(["dpkg-deb", "--field", str(deb), "Package"]).stdout.strip()
    run(["apt-get", "install", "-y", "--no-install-recommends", str(deb.resolve())],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return package


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600,
        check_rc: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if check_rc and result.returncode != 0:
        raise SmokeFailure(f"{' '.join(cmd[:3])}... exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


# ---- the installed files ----------------------------------------------------------------------------------------

def check_files(root: Path) -> None:
    opt = root / "opt" / "imagestudio"
    binary = opt / "imagestudio"
    check(binary.is_file() and os.access(binary, os.X_OK), f"{binary} is missing or not executable")
    launcher = root / "usr" / "bin" / "imagestudio"
    check(launcher.is_symlink() or launcher.is_file(), f"{launcher} is missing")
    check(launcher.resolve() == binary.resolve(), f"{launcher} does not lead to {binary}")
    check_desktop_entry(root / "usr" / "share" / "applications" / "imagestudio.desktop", r"imagestudio")
    check_icons(root / "usr" / "share" / "icons" / "hicolor")
    check_bundle(opt)


def check_portable(folder: Path, data: Path, bin_dir: Path) -> None:
    launcher = folder / "imagestudio"
    check(os.access(launcher, os.X_OK), f"{launcher} is not executable")
    command = bin_dir / "imagestudio"
    check(command.is_symlink() and command.resolve() == launcher.resolve(),
          f"install.sh did not link {command} to {launcher}")
    check_desktop_entry(data / "applications" / "imagestudio.desktop", re.escape(f'"{launcher}"'))
    check_icons(data / "icons" / "hicolor")
    check_bundle(folder / "app")


def check_desktop_entry(desktop: Path, exec_pattern: str) -> None:
    check(desktop.is_file(), f"{desktop} is missing")
    entry = desktop.read_text()
    check(re.search(rf"^Exec={exec_pattern} %[fFuU]$", entry, re.M) is not None,
          f"desktop entry: Exec does not match {exec_pattern} %f")
    check(re.search(r"^Icon=imagestudio$", entry, re.M) is not None, "desktop entry: Icon is not 'imagestudio'")
    mime = re.search(r"^MimeType=(.*)$", entry, re.M)
    missing = [t for t in IMAGE_TYPES if not mime or t not in mime.group(1).split(";")]
    check(not missing, f"desktop entry: MimeType lacks {missing} (no 'Open with ImageStudio' for them)")
    if shutil.which("desktop-file-validate"):
        out = run(["desktop-file-validate", str(desktop)], check_rc=False)
        check(out.returncode == 0 and not out.stdout.strip(), f"desktop-file-validate: {out.stdout}{out.stderr}")


def check_icons(icons: Path) -> None:
    absent = [s for s in ICON_SIZES if not (icons / f"{s}x{s}" / "apps" / "imagestudio.png").is_file()]
    check(not absent, f"hicolor icons missing at sizes {absent}")
    check((icons / "scalable" / "apps" / "imagestudio.svg").is_file(), "scalable SVG icon missing")


def check_bundle(opt: Path) -> None:
    forbidden = re.compile(r"^(torch|torchvision|training|tests|libcudnn.*|libcublas.*|libcudart.*|libnvinfer.*)$",
                           re.I)
    leaks = [str(p.relative_to(opt)) for p in opt.rglob("*") if forbidden.match(p.name)]
    check(not leaks, f"the bundle holds what it must not: {leaks[:5]}")
    models = sorted((opt / "_internal" / "resources" / "models").glob("*.onnx"))
    check(bool(models), "no .onnx model in the bundle (_internal/resources/models)")
    check((opt / "_internal" / "resources" / "icons" / "png" / "imagestudio-256.png").is_file(),
          "the app's icons are not in the bundle (_internal/resources/icons)")
    size_mb = sum(p.stat().st_size for p in opt.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20
    say(f"files OK: bundle {size_mb:.0f} MiB, {len(models)} model(s): {', '.join(m.name for m in models)}")


def check_open_with() -> None:
    """Installed on the machine: desktop-file-utils' trigger must have listed us for JPEG in the MIME cache."""
    cache = Path("/usr/share/applications/mimeinfo.cache")
    if not cache.is_file():
        say("no mimeinfo.cache (desktop-file-utils not installed): 'Open with' not checked")
        return
    jpeg = re.search(r"^image/jpeg=(.*)$", cache.read_text(), re.M)
    check(jpeg is not None and "imagestudio.desktop" in jpeg.group(1).split(";"),
          "mimeinfo.cache does not offer imagestudio.desktop for image/jpeg ('Open with' would lack it)")
    say("'Open with ImageStudio' registered for image/jpeg (mimeinfo.cache)")


# ---- the CLI ----------------------------------------------------------------------------------------------------

def read_png(path: Path) -> tuple[int, int, list[bytearray]]:
    """(width, height, rows of RGB bytes) of an 8-bit RGB or RGBA PNG; enough to check the app's output."""
    data = path.read_bytes()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    check(header is not None, f"{path}: no IHDR")
    width, height, depth, colour, _, _, interlace = header
    check(depth == 8 and colour in (2, 6) and interlace == 0, f"{path}: expected 8-bit RGB(A), got {header}")
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG row filter
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytearray(b for i, b in enumerate(line) if i % channels < 3))
        previous = line
    return width, height, rows


def consistency_psnr(small: list[bytearray], big: list[bytearray], scale: int) -> float:
    """PSNR between the input and the output averaged over scale×scale blocks: an upscaler keeps it high."""
    error, count = 0.0, 0
    for y, row in enumerate(small):
        for x in range(len(row)):
            pixel, channel = divmod(x, 3)
            block = sum(big[y * scale + dy][(pixel * scale + dx) * 3 + channel]
                        for dy in range(scale) for dx in range(scale)) / scale**2
            error += (block - row[x]) ** 2
            count += 1
    mse = error / count
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def check_gui_libraries(binary: Path, env: dict[str, str]) -> None:
    """The app's own start-up check, run from the installed launcher: the xcb plugin's libraries all resolve."""
    done = run([str(binary), "--check-gui"], {**env, "DISPLAY": env.get("DISPLAY") or ":0",
                                             "QT_QPA_PLATFORM": "xcb"}, check_rc=False)
    check(done.returncode == 0, f"--check-gui exited {done.returncode}: {done.stdout}{done.stderr}")
    say(done.stdout.strip())


def check_cli(binary: Path, env: dict[str, str], work: Path) -> dict[str, float]:
    version = run([str(binary), "--version"], env).stdout.strip()
    check(version.startswith("imagestudio "), f"--version printed {version!r}")
    listing = run([str(binary), "models"], env).stdout
    x4 = [line for line in listing.splitlines() if re.search(r"\bupscale\b.*×4\b.*\bbundled\s*$", line)]
    check(bool(x4), f"`imagestudio models` lists no bundled ×4 upscale model:\n{listing}")
    say(f"{version}; bundled ×4 upscaler: {x4[0].split()[0]}")

    timings = {}
    _, _, small = read_png(SMALL)
    for device in ("auto", "cuda"):
        out = work / f"upscaled-{device}.png"
        started = time.monotonic()
        result = run([str(binary), "upscale", str(SMALL), "-o", str(out), "--scale", "4", "--device", device],
                     env, timeout=300, check_rc=False)
        timings[f"upscale --device {device} (s)"] = time.monotonic() - started
        check(result.returncode == 0,
              f"upscale --device {device} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        check("Traceback" not in result.stderr, f"upscale --device {device} printed a traceback:\n{result.stderr}")
        width, height, rows = read_png(out)
        check((width, height) == (600, 400), f"upscale --device {device} wrote {width}×{height}, not 600×400")
        psnr = consistency_psnr(small, rows, 4)
        check(psnr >= 24.0, f"upscale --device {device}: output reduced ×4 differs from the input ({psnr:.1f} dB)")
        notice = " ".join(line.strip() for line in result.stderr.splitlines() if line.startswith("imagestudio:"))
        say(f"upscale --device {device}: 600×400, consistency {psnr:.1f} dB, "
            f"{timings[f'upscale --device {device} (s)']:.1f} s; {result.stdout.strip()}"
            + (f" [stderr: {notice}]" if notice else ""))
    folder = binary.resolve().parent  # /opt/imagestudio, or the portable folder with the bundle in app/
    if shutil.which("cc") and [*folder.glob("_internal/onnxruntime/capi/*providers_cuda*"),
                               *folder.glob("app/_internal/onnxruntime/capi/*providers_cuda*")]:
        check_cuda_without_libraries(binary, env, work)
    return timings


def check_cuda_without_libraries(binary: Path, env: dict[str, str], work: Path) -> None:
    """CUDA flavour on a machine with an NVIDIA driver but no CUDA/cuDNN libraries (the common case): a stub
    libcuda.so.1 makes the app believe in the driver; onnxruntime then cannot load its CUDA provider, and the
    upscale must still succeed on the CPU, saying why."""
    stub = work / "fake-driver"
    stub.mkdir()
    (stub / "stub.c").write_text("int cuInit(unsigned int flags) { return 100; }\n")  # 100: no device
    run(["cc", "-shared", "-fPIC", "-o", str(stub / "libcuda.so.1"), str(stub / "stub.c")])
    out = work / "upscaled-fake-driver.png"
    result = run([str(binary), "upscale", str(SMALL), "-o", str(out), "--scale", "4", "--device", "cuda", "-q"],
                 {**env, "LD_LIBRARY_PATH": str(stub)}, timeout=300, check_rc=False)
    check(result.returncode == 0 and "Traceback" not in result.stderr,
          f"CUDA without its libraries: upscale exited {result.returncode}:\n{result.stdout}{result.stderr}")
    check(read_png(out)[:2] == (600, 400), "CUDA without its libraries: wrong output size")
    say(f"driver without CUDA libraries: fell back to the CPU: {' '.join(result.stderr.split())}")


# ---- the GUI ----------------------------------------------------------------------------------------------------

def private_home(env: dict[str, str], home: Path) -> dict[str, str]:
    """A fresh home: the app's settings, autosaves, caches and user models stay out of the real ones, and each GUI
    start is a first start (a killed run's autosave would otherwise offer a restore instead of the photo)."""
    runtime = home / "runtime"
    runtime.mkdir(parents=True, mode=0o700)
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local/state"), "XDG_RUNTIME_DIR": str(runtime)}


def start_app(binary: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """The installed app on the photo, with a fresh home, in its own process group; its output goes to a file (a
    pipe nobody reads would fill up and stall it)."""
    env = private_home(env, log.with_suffix(".home"))
    with log.open("w") as out:
        return subprocess.Popen([str(binary), str(PHOTO)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_app(app: subprocess.Popen) -> None:
    if app.poll() is None:
        os.killpg(app.pid, signal.SIGTERM)
        try:
            app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(app.pid, signal.SIGKILL)
            app.wait()


def gui_offscreen(binary: Path, env: dict[str, str], work: Path) -> float | None:
    """Time to the first window from the app's own report, or None when the app does not honour the hook."""
    env = {**env, "QT_QPA_PLATFORM": "offscreen", "IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN": "1"}
    log = work / "gui-offscreen.log"
    started = time.monotonic()
    app = start_app(binary, env, log)
    try:
        app.wait(timeout=OFFSCREEN_WAIT_S)
    except subprocess.TimeoutExpired:
        stop_app(app)
        if SMOKE_LINE.search(log.read_text()):
            raise SmokeFailure("offscreen: the app reported its window but did not quit") from None
        say(f"offscreen: the app ran {OFFSCREEN_WAIT_S:.0f} s without reporting a window: it does not honour "
            "IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN yet (not counted)")
        return None
    wall = time.monotonic() - started
    output = log.read_text()
    match = SMOKE_LINE.search(output)
    if app.returncode != 0 or match is None:
        raise SmokeFailure(f"offscreen: the app exited {app.returncode} without reporting its window:\n{output}")
    check("Traceback" not in output, f"offscreen: the app printed a traceback:\n{output}")
    title = (match.group(2) or "").strip()
    check(not title or PHOTO.name in title, f"offscreen: window title {title!r} does not name {PHOTO.name}")
    say(f"offscreen: window shown after {float(match.group(1)):.2f} s (process {wall:.2f} s), title {title!r}")
    return float(match.group(1))


def gui_xvfb(binary: Path, env: dict[str, str], work: Path, runs: int) -> list[float] | None:
    """Seconds from start to the first visible ImageStudio window on a virtual X server, per run."""
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        say("Xvfb/xdotool not installed: the X11 start-up check is skipped (apt-get install xvfb xdotool)")
        return None
    display = f":{90 + os.getpid() % 100}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    times = []
    try:
        wait_for(lambda: run(["xdotool", "getdisplaygeometry"], env, check_rc=False).returncode == 0, 10,
                 "Xvfb did not start")
        for attempt in range(runs):
            log = work / f"gui-x11-{attempt + 1}.log"
            started = time.monotonic()
            app = start_app(binary, env, log)
            try:
                wait_for(lambda: x11_window(app, log, env, "ImageStudio"), GUI_TIMEOUT_S,  # noqa: B023
                         "X11: no ImageStudio window appeared")
                first = time.monotonic() - started
                wait_for(lambda: x11_window(app, log, env, re.escape(PHOTO.name)), GUI_TIMEOUT_S,  # noqa: B023
                         f"X11: the window title never named {PHOTO.name} (the photo did not open)")
                opened = time.monotonic() - started
            finally:
                stop_app(app)
            output = log.read_text()
            check("Traceback" not in output, f"X11: the app printed a traceback:\n{output}")
            times.append(first)
            say(f"X11 run {attempt + 1}: first window after {first:.2f} s, {PHOTO.name} open after {opened:.2f} s")
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    return times


def x11_window(app: subprocess.Popen, log: Path, env: dict[str, str], title_pattern: str) -> bool:
    """True once a visible window's title matches; fails at once if the app died instead."""
    if app.poll() is not None:
        raise SmokeFailure(f"X11: the app exited {app.returncode} early:\n{log.read_text()}")
    found = run(["xdotool", "search", "--onlyvisible", "--name", title_pattern], env, check_rc=False)
    return found.returncode == 0 and bool(found.stdout.strip())


def wait_for(predicate, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise SmokeFailure(message)


# ---- installing and removing, per format ------------------------------------------------------------------------

def install(kind: str, package: Path, work: Path, env: dict[str, str]) -> tuple[Path, Callable[[], None]]:
    """Installs the package into a private place, checks its files; returns the command users start and a
    function that removes the package and checks that no file of it is left."""
    if kind == ".tar.gz":
        folder, data, bin_dir = unpack_portable(package, work, env)
        say(f"unpacked {package.name} and ran its install.sh (XDG_DATA_HOME={data})")
        check_portable(folder, data, bin_dir)

        def remove() -> None:
            run(["sh", str(folder / "install.sh"), "--uninstall"],
                {**env, "XDG_DATA_HOME": str(data), "BIN_DIR": str(bin_dir)})
            # The desktop's caches stay (update-desktop-database / gtk-update-icon-cache rebuilt them without us).
            caches = ("mimeinfo.cache", "icon-theme.cache")
            left = sorted(str(p) for d in (data, bin_dir) if d.exists() for p in d.rglob("*")
                          if not p.is_dir() and p.name not in caches)
            check(not left, f"install.sh --uninstall left {left[:5]}")
            stale = [str(p) for p in data.rglob("*.cache") if "imagestudio" in p.read_text(errors="replace")]
            check(not stale, f"after install.sh --uninstall these caches still name ImageStudio: {stale}")
            say("install.sh --uninstall: menu entry, icons and command removed, nothing left")

        return bin_dir / "imagestudio", remove  # the command install.sh made, as its users start it
    root = work / "root"
    if kind == ".deb":
        install_into_root(package, root)
        name = run(["dpkg-deb", "--field", str(package), "Package"]).stdout.strip()
    else:
        name = install_rpm_into_root(package, root)
    say(f"installed {package.name} into {root} with {'dpkg' if kind == '.deb' else 'rpm'} --root")
    check_files(root)

    def remove() -> None:
        if kind == ".deb":
            run(["dpkg", f"--root={root}", "--force-not-root", "--force-script-chrootless", "--no-triggers",
                 f"--log={root / 'dpkg.log'}", "--purge", name])
        else:
            run(["rpm", "--root", str(root), "-e", "--nodeps", name])
        left = leftovers(root)
        check(not left, f"after removing {name}, files are left in /opt and /usr: {left[:5]}")
        say(f"removed {name}: nothing left in /opt or /usr")

    return root / "usr" / "bin" / "imagestudio", remove  # through the launcher, as users start it


# ---- main -------------------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("package", type=Path, help="the .deb, .rpm or .tar.gz")
    parser.add_argument("--system", action="store_true", help=".deb: install on this machine with apt-get (CI)")
    parser.add_argument("--runs", type=int, default=3, help="GUI starts to time on Xvfb (default 3)")
    args = parser.parse_args()
    check(args.package.is_file(), f"{args.package} not found")
    kind = next((k for k in (".deb", ".rpm", ".tar.gz") if args.package.name.endswith(k)), None)
    check(kind is not None, f"{args.package.name}: not a .deb, .rpm or .tar.gz")
    check(not args.system or kind == ".deb", "--system is for the .deb")
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="imagestudio-smoke-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAGESTUDIO_", "QT_"))}
        env = private_home(env, work / "home")
        package = None
        try:
            if args.system:
                package = install_on_system(args.package)
                say(f"installed {package} on this machine with apt-get")
                check_files(Path("/"))
                check_open_with()
                binary, remove = Path("/usr/bin/imagestudio"), None  # removed by apt-get below
            else:
                binary, remove = install(kind, args.package, work, env)
            check_gui_libraries(binary, env)
            timings = check_cli(binary, env, work)
            shown = gui_offscreen(binary, env, work)
            x11 = gui_xvfb(binary, env, work, args.runs)
            check(shown is not None or x11 is not None,
                  "no GUI check could run: install xvfb and xdotool, or make the app honour "
                  "IMAGESTUDIO_SMOKE_EXIT_AFTER_SHOWN")
            if remove:
                remove()
        finally:
            if package:
                run(["apt-get", "remove", "-y", package], check_rc=False)

    say(f"PASSED ({time.monotonic() - started:.0f} s)")
    if x11:
        say(f"time to first window (X11, {len(x11)} runs): first {x11[0]:.2f} s, best {min(x11):.2f} s")
    if shown is not None:
        say(f"time to first window (offscreen, app's own report): {shown:.2f} s")
    for name, seconds in timings.items():
        say(f"{name}: {seconds:.1f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SmokeFailure as failure:
        print(f"\nSMOKE TEST FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
