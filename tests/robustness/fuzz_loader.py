"""Bounded coverage-guided fuzzing of the image loader (atheris/libFuzzer), seeded with the robustness corpus.

    pip install atheris
    python tests/robustness/fuzz_loader.py --seconds 180            # libFuzzer's statistics go to stderr

Each input is written to a file and given to `load_image` (limit 4 MP, so a mutated header cannot ask for
gigabytes). The loader must return a sane Image or raise ImageLoadError; anything else, or an input running longer
than 10 s, is a finding: libFuzzer stops and saves the input as `crash-*` / `timeout-*` under --out (default
./fuzz-findings). Replay one with `python tests/robustness/fuzz_loader.py --replay FILE`.
Pillow's and ImageStudio's Python code is instrumented for coverage; the C decoders are exercised, not measured.
Without atheris (e.g. a Python it has no wheel for), `--engine random` runs a plain seeded random mutator instead.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # make_corpus, when run as a script

MAX_PIXELS = 4_000_000
MAX_LEN = 256 * 1024


def _scratch_file() -> Path:
    folder = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return folder / f"imagestudio-fuzz-{os.getpid()}.img"


def make_target(load_image, image_load_error):  # noqa: ANN001, ANN201 - the imported functions, instrumented or not
    scratch = _scratch_file()

    def one_input(data: bytes) -> None:
        scratch.write_bytes(data)
        try:
            image = load_image(scratch, max_pixels=MAX_PIXELS)
        except image_load_error as exc:
            message = str(exc)
            if not message or "\n" in message:
                raise AssertionError(f"not a one-line message: {message!r}") from exc
            return
        rgb = image.rgb
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
            raise AssertionError(f"bad pixel array {rgb.shape}")
        if not (float(rgb.min()) >= 0.0 and float(rgb.max()) <= 1.0):  # also catches NaN
            raise AssertionError("pixels outside [0, 1]")

    return one_input


def write_seeds(folder: Path) -> int:
    from make_corpus import write_corpus

    count = 0
    for case, path in write_corpus(folder / "all"):
        if path.is_file() and not case.fifo and 0 < path.stat().st_size <= MAX_LEN:
            (folder / f"seed-{count:03d}").write_bytes(path.read_bytes())
            count += 1
    import shutil

    shutil.rmtree(folder / "all")
    return count


def instrument() -> None:
    """Before anything imports Pillow or ImageStudio (the seed writer does): only modules imported inside this
    block get coverage instrumentation."""
    import atheris

    with atheris.instrument_imports(include=["PIL", "imagestudio"]):
        import PIL.Image
        import PIL.ImageCms  # noqa: F401

        import imagestudio.core.image  # noqa: F401

        PIL.Image.init()  # the format plugins, which Pillow would otherwise import later, uninstrumented


def run_atheris(seconds: int, out: Path, seed_dir: Path) -> None:
    import atheris

    from imagestudio.core.errors import ImageLoadError
    from imagestudio.core.image import load_image

    work = out / "corpus"
    work.mkdir(parents=True, exist_ok=True)
    argv = [sys.argv[0], f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=3072", f"-max_len={MAX_LEN}",
            f"-artifact_prefix={out}/", "-print_final_stats=1", str(work), str(seed_dir)]
    atheris.Setup(argv, make_target(load_image, ImageLoadError))
    atheris.Fuzz()  # exits the process: 0 when the time is up with no finding


def run_random(seconds: int, out: Path, seed_dir: Path) -> int:
    """A plain mutational fuzzer (bit flips, cuts, inserts, magic values) for where atheris is not available."""
    from imagestudio.core.errors import ImageLoadError
    from imagestudio.core.image import load_image

    target = make_target(load_image, ImageLoadError)
    seeds = [p.read_bytes() for p in sorted(seed_dir.iterdir())]
    rng = random.Random(1234)
    runs, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data)) if data else 0
            kind = rng.randrange(4)
            if kind == 0 and data:
                data[at] ^= 1 << rng.randrange(8)
            elif kind == 1:
                del data[at:at + rng.randint(1, 64)]
            elif kind == 2:
                data[at:at] = rng.randbytes(rng.randint(1, 16))
            elif data:
                data[at:at + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x00", b"\x80\x00\x00\x00"])
        try:
            target(bytes(data))
        except Exception:
            path = out / f"crash-random-{runs}"
            path.write_bytes(bytes(data))
            print(f"finding after {runs} runs, saved as {path}", file=sys.stderr)
            raise
        runs += 1
    print(f"Done {runs} runs in {seconds} second(s) (random mutator)", file=sys.stderr)
    return 0


def replay(path: Path) -> int:
    from imagestudio.core.errors import ImageLoadError
    from imagestudio.core.image import load_image

    make_target(load_image, ImageLoadError)(path.read_bytes())
    print(f"{path}: handled (an Image or ImageLoadError)")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=120, help="time budget (default 120)")
    parser.add_argument("--engine", choices=("atheris", "random"), default="atheris")
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"), help="findings and the grown corpus")
    parser.add_argument("--replay", type=Path, help="run one saved input and exit")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    if args.engine == "atheris":
        instrument()
    args.out.mkdir(parents=True, exist_ok=True)
    seed_dir = args.out / "seeds"
    seed_dir.mkdir(exist_ok=True)
    print(f"{write_seeds(seed_dir)} seed files in {seed_dir}", file=sys.stderr)
    if args.engine == "atheris":
        run_atheris(args.seconds, args.out.resolve(), seed_dir)
        return 0
    return run_random(args.seconds, args.out, seed_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
