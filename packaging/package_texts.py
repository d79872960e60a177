#!/usr/bin/env python3
"""The texts build.sh writes from bundle-deps.json: the portable archive's README.txt and the RPM spec.

    python3 packaging/package_texts.py readme DEPS_JSON VERSION FLAVOUR "DEB DATA PKGS" "RPM DATA PKGS"
    python3 packaging/package_texts.py rpm-spec TEMPLATE DEPS_JSON STAGE PACKAGE VERSION OTHER SUMMARY NOTE \
        [RPM DATA PACKAGE...]

Both print to stdout. Standard library only.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import textwrap
from pathlib import Path

GLIBC = re.compile(r"^(ld-linux.*|libc|libm|libdl|libpthread|librt|libresolv|libutil)\.so")


def readme(deps: dict, version: str, flavour: str, deb_data: str, rpm_data: str) -> str:
    # One line per command (to copy and paste); glibc itself is on every system, so only its version is named.
    debian = " ".join([*(re.sub(r" \(.*", "", d) for d in deps["debian_depends"] if not d.startswith("libc6 ")),
                       *deb_data.split()])
    fedora = " ".join([*(shlex.quote(r) for r in deps["rpm_requires"] if not GLIBC.match(r)), *rpm_data.split()])
    libraries = textwrap.fill(", ".join(s for s in deps["system"] if not GLIBC.match(s)), 110,
                              initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False)

    return f"""ImageStudio {version} ({flavour}), portable: it runs from this folder, wherever it is unpacked.

  ./imagestudio                 the app (./imagestudio photo.jpg opens a photo)
  ./imagestudio --help          the command line (enhance, upscale, denoise, lowlight, models, ...)
  ./imagestudio --check-gui     says whether the window can open here, and what is missing if not
  ./install.sh                  adds the menu entry, "Open with" for images, the icons, ~/.local/bin/imagestudio
  ./install.sh --uninstall      takes them away again (sudo ./install.sh --system: for all users, /usr/local)

It carries Python, Qt, onnxruntime and the models. From the system it needs glibc >= {deps['glibc']}, the
keyboard maps and font configuration, and these libraries:
{libraries}
Debian 12+ / Ubuntu 24.04+:
  sudo apt install {debian}
Fedora (zypper install on openSUSE takes the same names):
  sudo dnf install {fedora}
When one is missing, ./imagestudio names it with the command that installs it, and exits.
"""


def rpm_spec(template: str, deps: dict, stage: str, package: str, version: str, other: str, summary: str,
             note: str, data: list[str]) -> str:
    requires = [f"Requires:       {r}" for r in [*deps["rpm_requires"], *data]]
    fields = {"PACKAGE": package, "VERSION": version, "SUMMARY": summary, "OTHER": other, "STAGE": stage,
              "NOTE": re.sub(r"\n\s+", "\n", note), "REQUIRES": "\n".join(requires)}
    text = template
    for key, value in fields.items():
        text = text.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z]+@", text)
    if left:
        raise SystemExit(f"package_texts: unfilled fields in the RPM spec: {left}")
    return text


def main(argv: list[str]) -> int:
    if argv[:1] == ["readme"] and len(argv) == 6:
        deps = json.loads(Path(argv[1]).read_text())
        sys.stdout.write(readme(deps, *argv[2:6]))
        return 0
    if argv[:1] == ["rpm-spec"] and len(argv) >= 9:
        template, deps = Path(argv[1]).read_text(), json.loads(Path(argv[2]).read_text())
        sys.stdout.write(rpm_spec(template, deps, *argv[3:9], data=argv[9:]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
