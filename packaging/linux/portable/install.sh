#!/bin/sh
# Registers the unpacked ImageStudio folder with the desktop: a menu entry ("Open with ImageStudio" for images),
# the icons, and an `imagestudio` command. Nothing outside the folder is needed to run it; this only adds the
# desktop's entry points, and --uninstall takes them away again.
#
#   ./install.sh               for this user: ~/.local/share/{applications,icons}, ~/.local/bin/imagestudio
#   sudo ./install.sh --system for everyone: /usr/local/share/{applications,icons}, /usr/local/bin/imagestudio
#   ./install.sh --uninstall [--system]
#
# The folder stays where it is (move it first, e.g. to ~/.local/opt or /opt; rerun after moving it).
# XDG_DATA_HOME and BIN_DIR override the per-user places. Every file written is listed in
# <data>/imagestudio/installed-files, which --uninstall reads.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
mode=install
scope=user
for arg in "$@"; do
    case "$arg" in
        --uninstall) mode=uninstall ;;
        --system) scope=system ;;
        *) echo "usage: $0 [--system] [--uninstall]" >&2; exit 2 ;;
    esac
done
if [ "$scope" = system ]; then
    data=/usr/local/share
    bin=/usr/local/bin
else
    data=${XDG_DATA_HOME:-$HOME/.local/share}
    bin=${BIN_DIR:-$HOME/.local/bin}
fi
manifest="$data/imagestudio/installed-files"

refresh() {  # the menu and "Open with" caches, where the tools exist (desktops also watch these folders)
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 &&
        gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true
}

if [ "$mode" = uninstall ]; then
    [ -f "$manifest" ] || { echo "install.sh: nothing to uninstall ($manifest not found)" >&2; exit 1; }
    while IFS= read -r file; do
        rm -f "$file"
    done < "$manifest"
    rm -f "$manifest"
    rmdir "$data/imagestudio" 2>/dev/null || true
    refresh
    echo "ImageStudio's menu entry, icons and command are removed (the folder $here is left as it is)."
    exit 0
fi

[ -x "$here/app/imagestudio" ] || { echo "install.sh: $here/app/imagestudio is missing" >&2; exit 1; }
mkdir -p "$data/applications" "$data/imagestudio" "$bin"
: > "$manifest.new"
put() {  # put SOURCE DEST: copy one file, recording it
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    chmod 644 "$2"
    echo "$2" >> "$manifest.new"
}
for icon in "$here"/share/icons/hicolor/*/apps/imagestudio.*; do
    put "$icon" "$data/icons/hicolor/${icon#"$here"/share/icons/hicolor/}"
done
# The desktop entry names this folder's launcher by its absolute path (quoted: the path may hold spaces).
sed -e "s|^Exec=.*|Exec=\"$here/imagestudio\" %f|" -e "s|^TryExec=.*|TryExec=$here/imagestudio|" \
    "$here/share/applications/imagestudio.desktop" > "$data/applications/imagestudio.desktop"
chmod 644 "$data/applications/imagestudio.desktop"
echo "$data/applications/imagestudio.desktop" >> "$manifest.new"
ln -sf "$here/imagestudio" "$bin/imagestudio"
echo "$bin/imagestudio" >> "$manifest.new"
mv "$manifest.new" "$manifest"
refresh
echo "ImageStudio is in the menu; the command is $bin/imagestudio."
case ":$PATH:" in *":$bin:"*) ;; *) echo "(add $bin to PATH to type just 'imagestudio')" ;; esac
# The bundle's own start-up check says which system libraries are missing, with the command to install them.
if ! DISPLAY=${DISPLAY:-:0} "$here/app/imagestudio" --check-gui >/dev/null 2>"$data/imagestudio/check.log"; then
    cat "$data/imagestudio/check.log" >&2
fi
rm -f "$data/imagestudio/check.log"
