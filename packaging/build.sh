#!/usr/bin/env bash
# Build the ImageStudio desktop bundle and its .deb from a checkout, then smoke-test the package.
#
#   packaging/build.sh [cpu|cuda] [--fresh] [--no-smoke] [--install]
#
#   cpu   (default) plain onnxruntime: runs everywhere, on the CPU
#   cuda  onnxruntime-gpu: uses an NVIDIA GPU when the user has CUDA 13 + cuDNN 9, else the CPU
#   --fresh     recreate the flavour's build venv (otherwise it is reused when its requirements did not change)
#   --no-smoke  skip packaging/smoke_test.py
#   --install   smoke-test by installing the .deb on this machine with apt-get (and removing it after) instead
#               of into a temporary root; the default when CI=true
#
# Everything goes to packaging/.build/<flavour>/ (git-ignored): venv/, work/, dist/imagestudio/ (the bundle),
# deb/ (the package tree) and the .deb itself. Needs: python3 (>= 3.11) with venv, dpkg-deb; the smoke test
# also uses Xvfb and xdotool when present (apt-get install xvfb xdotool).
set -euo pipefail
trap 'echo "build.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

flavour=cpu
fresh=0
smoke=1
smoke_args=()
[ "${CI:-}" = true ] && smoke_args=(--system)
for arg in "$@"; do
    case "$arg" in
        cpu | cuda) flavour=$arg ;;
        --fresh) fresh=1 ;;
        --no-smoke) smoke=0 ;;
        --install) smoke_args=(--system) ;;
        *) echo "usage: $0 [cpu|cuda] [--fresh] [--no-smoke] [--install]" >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/.build/$flavour"
python=${PYTHON:-python3}
start=$SECONDS
step() { printf '\n==> %s  (%ds)\n' "$*" $((SECONDS - start)); }

command -v dpkg-deb >/dev/null || { echo "build.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "build.sh: $python is older than 3.11 (build.sh reads pyproject.toml with tomllib)" >&2; exit 1; }

version=$("$python" -c "import re,sys; print(re.search(r'__version__ = \"(.+)\"', open(sys.argv[1]).read())[1])" \
    "$root/imagestudio/__init__.py")
if [ "$flavour" = cpu ]; then package=imagestudio; else package=imagestudio-cuda; fi
deb="$out/${package}_${version}-1_amd64.deb"

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
glibc=$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)  # the bundle carries this system's libraries
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
# Depends: what the bundle links to but does not carry (the graphics stack), and the packages holding the data
# files its bundled fontconfig and xkbcommon read. The two flavours own the same paths: each replaces the other.
cat > "$tree/DEBIAN/control" <<EOF
Package: $package
Version: $version-1
Architecture: amd64
Maintainer: ImageStudio developers <maintainers@imagestudio.invalid>
Installed-Size: $installed_kb
Section: graphics
Priority: optional
Depends: libc6 (>= $glibc), libgl1, libegl1, libxcb1, libdrm2, libfontconfig1, libxkbcommon0
Recommends: libwayland-client0, libwayland-cursor0, libwayland-egl1, hicolor-icon-theme
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

# ---- 4. Sizes --------------------------------------------------------------------------------------------------
step "sizes"
printf 'bundle  %s  (%s)\n' "$(du -sh "$bundle" | cut -f1)" "$bundle"
printf '.deb    %s  (%s)\n' "$(du -sh "$deb" | cut -f1)" "$deb"
echo "largest parts of the bundle:"
du -sh "$bundle"/_internal/* | sort -h | tail -6 | sed 's/^/  /'

# ---- 5. Smoke test: install into a temporary root, start the GUI with a photo, upscale through the CLI ------------
if [ "$smoke" = 1 ]; then
    step "smoke test"
    "$python" "$here/smoke_test.py" "$deb" "${smoke_args[@]}"
fi
step "done: $deb"
