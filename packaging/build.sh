#!/usr/bin/env bash
# Build the ImageStudio desktop bundle and its .deb from a checkout, then smoke-test the package.
#
#   packaging/build.sh [cpu|cuda] [--fresh] [--no-smoke] [--install] [--clean-root]
#
#   cpu   (default) plain onnxruntime: runs everywhere, on the CPU
#   cuda  onnxruntime-gpu: uses an NVIDIA GPU when the user has CUDA 13 + cuDNN 9, else the CPU
#   --fresh     recreate the flavour's build venv (otherwise it is reused when its requirements did not change)
#   --no-smoke  skip packaging/smoke_test.py
#   --install   smoke-test by installing the .deb on this machine with apt-get (and removing it after) instead
#               of into a temporary root; the default when CI=true
#   --clean-root  also run packaging/clean_root_smoke.py: the .deb and the .tar.gz in a fresh debootstrap'ed
#               Debian 12 (needs root and debootstrap; the root is cached in packaging/.build/clean-root/)
#
# Everything goes to packaging/.build/<flavour>/ (git-ignored): venv/, work/, dist/imagestudio/ (the bundle),
# bundle-deps.json (what it needs from the system), deb/ (the package tree), the .deb, the portable
# <package>-<version>-linux-x86_64.tar.gz and, where rpmbuild exists, the .rpm: three packages of one bundle.
# Needs: python3 (>= 3.11) with venv, dpkg-deb, objdump (binutils); rpmbuild (package rpm) for the .rpm; the
# smoke test also uses Xvfb and xdotool when present (apt-get install xvfb xdotool).
set -euo pipefail
trap 'echo "build.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

flavour=cpu
fresh=0
smoke=1
clean_root=0
smoke_args=()
[ "${CI:-}" = true ] && smoke_args=(--system)
for arg in "$@"; do
    case "$arg" in
        cpu | cuda) flavour=$arg ;;
        --fresh) fresh=1 ;;
        --no-smoke) smoke=0 ;;
        --install) smoke_args=(--system) ;;
        --clean-root) clean_root=1 ;;
        *) echo "usage: $0 [cpu|cuda] [--fresh] [--no-smoke] [--install] [--clean-root]" >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/.build/$flavour"
python=${PYTHON:-python3}
start=$SECONDS
step() { printf '\n==> %s  (%ds)\n' "$*" $((SECONDS - start)); }

command -v dpkg-deb >/dev/null || { echo "build.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }
command -v objdump >/dev/null || { echo "build.sh: objdump is missing (apt-get install binutils)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "build.sh: $python is older than 3.11 (build.sh reads pyproject.toml with tomllib)" >&2; exit 1; }

version=$("$python" -c "import re,sys; print(re.search(r'__version__ = \"(.+)\"', open(sys.argv[1]).read())[1])" \
    "$root/imagestudio/__init__.py")
if [ "$flavour" = cpu ]; then package=imagestudio; else package=imagestudio-cuda; fi
deb="$out/${package}_${version}-1_amd64.deb"
portable="$package-$version-linux-x86_64"
tarball="$out/$portable.tar.gz"
rpm="$out/$package-$version-1.x86_64.rpm"

# ---- 1. A venv with the app's runtime requirements only (never torch, never the training extras) --------------
step "build venv ($flavour)"
# The app's own dependencies from pyproject.toml, with the onnxruntime the flavour wants. (pyproject picks
# onnxruntime-gpu on x86-64 Linux; the cpu flavour swaps in plain onnxruntime.)
requirements=$("$python" - "$root/pyproject.toml" "$flavour" <<'PY'
import re, sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
keep = [d.split(";")[0].strip() for d in deps if not re.match(r"onnxruntime", d)]
wanted = r"onnxruntime-gpu\b" if sys.argv[2] == "cuda" else r"onnxruntime\b(?!-)"
ort = [d.split(";")[0].strip() for d in deps if re.match(wanted, d)]
print("\n".join(keep + ort + ["pyinstaller>=6.10"]))
PY
)
venv="$out/venv"
if [ "$fresh" = 1 ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    echo "$requirements" > "$out/requirements.txt"
    if ! nice -n 5 "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$out/requirements.txt" \
        > "$out/pip.log" 2>&1; then
        grep -v "is ignored: it is neither a file nor a directory" "$out/pip.log" >&2
        echo "build.sh: pip could not install the build venv (log: $out/pip.log)" >&2
        exit 1
    fi
    echo "$requirements" > "$venv/.requirements"  # marks the venv complete
fi
# The bundle can only be as clean as the venv: refuse one with torch, NVIDIA wheels or the wrong onnxruntime.
"$venv/bin/python" - "$flavour" <<'PY'
import importlib.metadata as md, sys
names = {d.metadata["Name"].lower() for d in md.distributions()}
bad = sorted(n for n in names if n in ("torch", "torchvision", "onnx") or n.startswith("nvidia-"))
want, other = ("onnxruntime", "onnxruntime-gpu") if sys.argv[1] == "cpu" else ("onnxruntime-gpu", "onnxruntime")
if bad or want not in names or other in names:
    sys.exit(f"build venv is wrong for {sys.argv[1]}: unwanted {bad}; "
             f"{want}: {want in names}; {other}: {other in names}")
print(f"venv: {want} {md.version(want)}, PySide6-Essentials {md.version('pyside6-essentials')}, "
      f"PyInstaller {md.version('pyinstaller')}; no torch, no NVIDIA wheels")
PY

# ---- 2. The one-folder bundle ----------------------------------------------------------------------------------
step "PyInstaller bundle"
models=${IMAGESTUDIO_BUNDLE_MODELS:-$root/resources/models}  # the spec bundles this folder's models
ls "$models"/*.onnx >/dev/null 2>&1 ||
    echo "build.sh: WARNING: $models has no .onnx model: the bundle will have none" >&2
rm -rf "$out/dist"
(cd "$root" && IMAGESTUDIO_FLAVOUR=$flavour nice -n 5 "$venv/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath "$out/dist" --workpath "$out/work" packaging/imagestudio.spec) 2>&1 |
    # Expected noise: CUDA libraries (the user's), GTK (dropped plugin), Windows DLLs (platformdirs' ctypes).
    grep -v -E "could not resolve '(libcu|libnv|libgtk-3|libgdk-3)|required via ctypes not found" || true
bundle="$out/dist/imagestudio"
[ -x "$bundle/imagestudio" ] || { echo "build.sh: PyInstaller made no $bundle/imagestudio" >&2; exit 1; }
# Python's own libraries may carry debug symbols (a pyenv-built Python does: ~25 MB). Strip those only: strip
# breaks the patchelf-ed libraries inside manylinux wheels (numpy's OpenBLAS), so the spec strips nothing.
if command -v strip >/dev/null; then
    strip --strip-debug "$bundle"/_internal/libpython3*.so* "$bundle"/_internal/python3*/lib-dynload/*.so
fi
# Nothing of the training side may ride along.
leaks=$(find "$bundle" \( -iname 'torch*' -o -iname 'training' -o -iname 'tests' -o -iname 'libcudnn*' \
    -o -iname 'libcublas*' -o -iname 'libcudart*' \) -print | sed -n 1,5p)
[ -z "$leaks" ] || { echo "build.sh: the bundle holds what it must not: $leaks" >&2; exit 1; }
"$bundle/imagestudio" --version

# ---- 2b. What the bundle needs from the system: computed; the build fails on what resolves nowhere --------------
step "system libraries of the bundle"
# PyInstaller copies the build machine's libraries next to the binaries that need them and silently skips those
# the machine lacks. bundle_deps.py resolves every bundled binary as the loader will: a library neither carried
# nor on this machine stops the build here (install it, rebuild); what the system provides becomes
# Depends/Requires. CUDA and cuDNN are the user's by design (the cuda flavour's provider library links to them).
"$python" "$here/bundle_deps.py" "$bundle" --user-provided cuda --json "$out/bundle-deps.json"
deps_field() {  # deps_field KEY SEPARATOR: a value of bundle-deps.json (lists joined)
    "$python" -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(sys.argv[3].join(v) if isinstance(v, list) else v)' "$out/bundle-deps.json" "$1" "$2"
}
depends=$(deps_field debian_depends ", ")
# Data files the carried libraries read at run time: fontconfig's configuration (which pulls in a font) and the
# XKB keyboard maps. They are not libraries, so no ELF analysis finds them.
data_depends=""
data_requires=()
if [ -e "$bundle/_internal/libfontconfig.so.1" ]; then
    data_depends+=", fontconfig-config"
    data_requires+=(fontconfig)
fi
if [ -e "$bundle/_internal/libxkbcommon.so.0" ]; then
    data_depends+=", xkb-data"
    data_requires+=(xkeyboard-config)
fi

# ---- 3. The .deb: /opt/imagestudio, /usr/bin launcher, desktop entry, hicolor icons ------------------------------
step "Debian package"
tree="$out/deb"
rm -rf "$tree" "$deb"
mkdir -p "$tree/DEBIAN" "$tree/opt" "$tree/usr/bin" "$tree/usr/share/applications" \
    "$tree/usr/share/doc/$package" "$tree/usr/share/icons/hicolor/scalable/apps"
cp -a "$bundle" "$tree/opt/imagestudio"
ln -s ../../opt/imagestudio/imagestudio "$tree/usr/bin/imagestudio"  # relative: also right inside a test root
install -m 644 "$here/linux/imagestudio.desktop" "$tree/usr/share/applications/imagestudio.desktop"
for png in "$root"/resources/icons/png/imagestudio-*.png; do
    size=$(basename "$png" .png); size=${size#imagestudio-}
    install -D -m 644 "$png" "$tree/usr/share/icons/hicolor/${size}x${size}/apps/imagestudio.png"
done
install -m 644 "$root/resources/icons/imagestudio.svg" "$tree/usr/share/icons/hicolor/scalable/apps/imagestudio.svg"
install -m 644 "$here/linux/copyright" "$tree/usr/share/doc/$package/copyright"
find "$tree" -type d -exec chmod 755 {} +

installed_kb=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
if [ "$flavour" = cpu ]; then
    other=imagestudio-cuda
    suggests=""
    title="desktop image studio: enhance, upscale, denoise and brighten photos"
    note="This build runs the models on the CPU."
else
    other=imagestudio
    # From NVIDIA's CUDA repository: onnxruntime-gpu needs CUDA 13 and cuDNN 9 to use the GPU.
    suggests="Suggests: cuda-cudart-13-0, libcublas-13-0, libcurand-13-0, libcudnn9-cuda-13"$'\n'
    title="desktop image studio: enhance, upscale, denoise and brighten photos (CUDA)"
    note="This build runs the models on an NVIDIA GPU when CUDA 13 and cuDNN 9 are
 installed, and on the CPU otherwise."
fi
# Depends: computed above (what the bundle links to but does not carry) plus the data packages. The two flavours
# own the same paths: each replaces the other.
cat > "$tree/DEBIAN/control" <<EOF
Package: $package
Version: $version-1
Architecture: amd64
Maintainer: ImageStudio developers <maintainers@imagestudio.invalid>
Installed-Size: $installed_kb
Section: graphics
Priority: optional
Depends: $depends$data_depends
Recommends: hicolor-icon-theme
${suggests}Conflicts: $other
Replaces: $other
Description: $title
 ImageStudio improves photos with small neural networks trained by the
 project: upscaling (x2, x4), denoising, low-light enhancement and a
 one-click enhance, from a desktop app or the imagestudio command line.
 .
 Python, Qt, onnxruntime and the models are bundled under /opt/imagestudio.
 $note
EOF
# dpkg-deb --root-owner-group: files owned by root without fakeroot. zstd -9 packs the 210 MB tree in ~20 s
# (xz: 15% smaller, 15x slower); every system the glibc requirement admits reads zstd packages.
# DEB_COMPRESSION="-Zxz -z6" trades build time for a smaller download.
dpkg-deb --root-owner-group ${DEB_COMPRESSION:--Zzstd -z9} --build "$tree" "$deb" >/dev/null
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

# ---- 3b. The portable .tar.gz: the same bundle, a launcher, and install.sh for the menu entry and icons ----------
step "portable .tar.gz"
ptree="$out/portable/$portable"
rm -rf "$out/portable" "$tarball"
mkdir -p "$ptree/share/applications"
cp -a "$bundle" "$ptree/app"
install -m 755 "$here/linux/portable/imagestudio" "$here/linux/portable/install.sh" "$ptree/"
install -m 644 "$here/linux/imagestudio.desktop" "$ptree/share/applications/imagestudio.desktop"
cp -a "$tree/usr/share/icons" "$ptree/share/icons"
install -m 644 "$here/linux/copyright" "$ptree/COPYRIGHT"
"$python" "$here/package_texts.py" readme "$out/bundle-deps.json" "$version" "$flavour" \
    "${data_depends//, / }" "${data_requires[*]}" > "$ptree/README.txt"
# Owned by root in the archive (the files are the user's once unpacked); gzip: every system unpacks it.
tar -C "$out/portable" --owner=0 --group=0 --numeric-owner -cf - "$portable" | gzip -6 > "$tarball"
rm -rf "$out/portable"

# ---- 3c. The .rpm: the .deb's tree, packed by rpmbuild with the computed Requires ---------------------------------
if command -v rpmbuild >/dev/null; then
    step "RPM package"
    rpmtop="$out/rpm"
    rm -rf "$rpmtop" "$rpm"
    mkdir -p "$rpmtop/SPECS" "$rpmtop/stage"
    cp -al "$tree/." "$rpmtop/stage/"  # hard links: no second copy of the bundle
    rm -rf "$rpmtop/stage/DEBIAN"
    "$python" "$here/package_texts.py" rpm-spec "$here/linux/rpm.spec.in" "$out/bundle-deps.json" "$rpmtop/stage" \
        "$package" "$version" "$other" "$title" "$note" "${data_requires[@]}" > "$rpmtop/SPECS/$package.spec"
    rpmbuild --quiet -bb --define "_topdir $rpmtop" --define "_rpmdir $out" \
        --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" "$rpmtop/SPECS/$package.spec"
    rm -rf "$rpmtop/stage" "$rpmtop/BUILDROOT" "$rpmtop/BUILD"
    rpm -qip "$rpm" 2>/dev/null | sed -n '/^Name/,/^Summary/p'
    echo "Requires: $(rpm -qp --requires "$rpm" 2>/dev/null | tr '\n' ' ')"
else
    echo "build.sh: rpmbuild is missing (apt-get install rpm): no .rpm" >&2
    rpm=""
fi

# ---- 4. Sizes --------------------------------------------------------------------------------------------------
step "sizes"
printf 'bundle   %s  (%s)\n' "$(du -sh "$bundle" | cut -f1)" "$bundle"
printf '.deb     %s  (%s)\n' "$(du -sh "$deb" | cut -f1)" "$deb"
printf '.tar.gz  %s  (%s)\n' "$(du -sh "$tarball" | cut -f1)" "$tarball"
[ -z "$rpm" ] || printf '.rpm     %s  (%s)\n' "$(du -sh "$rpm" | cut -f1)" "$rpm"
echo "largest parts of the bundle:"
du -sh "$bundle"/_internal/* | sort -h | tail -6 | sed 's/^/  /'

# ---- 5. Smoke test: install into a temporary root, start the GUI with a photo, upscale through the CLI ------------
if [ "$smoke" = 1 ]; then
    step "smoke test: .deb"
    "$python" "$here/smoke_test.py" "$deb" "${smoke_args[@]}"
    step "smoke test: .tar.gz"
    "$python" "$here/smoke_test.py" "$tarball" --runs 1
    if [ -n "$rpm" ]; then
        step "smoke test: .rpm"
        "$python" "$here/smoke_test.py" "$rpm" --runs 1
    fi
fi
if [ "$clean_root" = 1 ]; then
    step "smoke test in a clean Debian 12 root"
    "$python" "$here/clean_root_smoke.py" deb "$deb"
    "$python" "$here/clean_root_smoke.py" tarball "$tarball"
fi
step "done: $deb, $tarball${rpm:+, $rpm}"
