"""Folders of real image files for the batch tests: good photos, corrupt ones, non-images, nested folders."""

from __future__ import annotations

from pathlib import Path

from photo_files import write_photo


def make_tree(root: Path) -> dict[str, Path]:
    """a.png, b.jpg, sub/c.png, sub/deeper/d.webp (good); broken.png (truncated), fake.jpg (text); notes.txt;
    .hidden.png and .cache/e.png (hidden)."""
    files = {
        "a.png": write_photo(root / "a.png", seed=1),
        "b.jpg": write_photo(root / "b.jpg", seed=2),
        "sub/c.png": write_photo(root / "sub" / "c.png", seed=3),
        "sub/deeper/d.webp": write_photo(root / "sub" / "deeper" / "d.webp", seed=4),
    }
    good = write_photo(root / "broken.png", seed=5).read_bytes()
    (root / "broken.png").write_bytes(good[: len(good) // 2])
    (root / "fake.jpg").write_text("this is not a JPEG")
    (root / "notes.txt").write_text("hello")
    write_photo(root / ".hidden.png", seed=6)
    write_photo(root / ".cache" / "e.png", seed=7)
    return files


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime: proof the inputs were not touched."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}
