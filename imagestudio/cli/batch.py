"""`imagestudio batch IN_DIR OUT_DIR`: a folder through a pipeline, with preview (--dry-run), resume and a report.

Registered into the CLI's parser by `register`; no Qt. Exit codes: 0 all files fine, 1 some files failed (the
run still finished the others), 2 a mistake in the command, 130 cancelled and 143 stopped by SIGTERM (rerun with
--resume to continue). Every path given is checked before any work: `--report` may not be an input, an output or
the manifest of the run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imagestudio.cli.console import NoticeHandler, ProgressBar, cancel_on_sigint
from imagestudio.cli.options import add_max_megapixels_option, max_pixels, path_text
from imagestudio.cli.runtime_options import add_runtime_options
from imagestudio.core.batch import (
    CONFLICT_RULES,
    DEFAULT_TEMPLATE,
    NAMED_PIPELINES,
    OUTPUT_CHOICES,
    SKIP,
    BatchPlan,
    BatchReport,
    BatchRunner,
    BatchSpec,
    BatchStatus,
    OutputRule,
    load_pipeline,
    plan_batch,
    split_patterns,
    with_device,
)
from imagestudio.core.batch.report import check_report_path
from imagestudio.core.errors import ClusterError
from imagestudio.core.imageio.formats import SAME, output_format
from imagestudio.core.runtime import DEVICES, expected_provider

EXIT_SOME_FAILED = 1


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "batch", help="process a whole folder of images through a pipeline",
        description="Run every image of IN_DIR through a pipeline into OUT_DIR (same sub-folders). Inputs are never "
                    "modified; a manifest in OUT_DIR lets a rerun with --resume skip what is finished.")
    parser.add_argument("input_dir", metavar="IN_DIR", type=path_text, help="folder of images to read")
    parser.add_argument("output_dir", metavar="OUT_DIR", type=path_text,
                        help="folder to write (created; mirrors IN_DIR)")
    parser.add_argument("--pipeline", default="enhance", metavar="NAME|PRESET.json", type=path_text,
                        help=f"{'|'.join(NAMED_PIPELINES)} or a preset saved from the History dock "
                             "(default: enhance)")
    parser.add_argument("-r", "--recursive", action="store_true", help="include sub-folders")
    parser.add_argument("--include", action="append", default=[], metavar="PATTERN",
                        help="only files matching, e.g. '*.jpg' (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                        help="leave out files or folders matching, e.g. 'raw/*' (repeatable)")
    parser.add_argument("--format", type=_format, default=SAME, metavar="FORMAT",
                        help=f"output format: {', '.join(f.lower() for f in OUTPUT_CHOICES)} (default: same)")
    parser.add_argument("--quality", type=int, default=95, metavar="1-100", help="JPEG/WebP quality (default: 95)")
    parser.add_argument("--name", default=DEFAULT_TEMPLATE, metavar="TEMPLATE",
                        help="output name: {stem}, {ext}, {name}, {index}; e.g. '{stem}_x4.{ext}' "
                             f"(default: {DEFAULT_TEMPLATE})".replace("%", "%%"))
    parser.add_argument("--conflict", choices=CONFLICT_RULES, default="skip",
                        help="when an output exists: skip it, overwrite it, or rename the new one (default: skip)")
    parser.add_argument("--resume", action="store_true",
                        help="skip files an earlier run finished with the same input and pipeline (from the manifest)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where models run (default: auto)")
    add_runtime_options(parser)

    add_max_megapixels_option(parser)
    parser.add_argument("--report", metavar="FILE.csv", type=path_text, help="write the per-file report as CSV")
    parser.add_argument("--cluster", metavar="auto|HOST:PORT|ray://HOST:PORT", type=_cluster_address,
                        help="run the files on a Ray cluster (needs imagestudio[cluster]; IN_DIR, OUT_DIR and the "
                             "models on storage every node mounts at the same path); 'auto': the cluster this "
                             "machine has joined")
    parser.add_argument("--dry-run", action="store_true", help="list each file and its output name; write nothing")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=run, terminated_note="finished files are kept; rerun with --resume to continue")


def _format(text: str) -> str:
    fmt = output_format(text)
    if fmt is None:
        raise argparse.ArgumentTypeError(f"unknown format '{text}'")
    return fmt


def _cluster_address(text: str) -> str:
    from imagestudio.core.batch.cluster import check_address  # noqa: PLC0415 - only with --cluster

    try:
        return check_address(text)
    except ClusterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _runner(plan: BatchPlan, cluster: str | None, on_status) -> BatchRunner:  # noqa: ANN001
    if cluster is None:
        return BatchRunner(plan, on_status=on_status)
    from imagestudio.core.batch.cluster import ClusterOptions, ClusterRunner, import_ray  # noqa: PLC0415

    import_ray()  # without the extra: one line, before any work
    return ClusterRunner(plan, ClusterOptions(cluster), on_status=on_status)


def build_spec(args: argparse.Namespace) -> BatchSpec:
    pipeline = with_device(load_pipeline(args.pipeline), args.device)
    rule = OutputRule(format=args.format, quality=args.quality, template=args.name, conflict=args.conflict)
    include = tuple(p for text in args.include for p in split_patterns(text))
    exclude = tuple(p for text in args.exclude for p in split_patterns(text))

    return BatchSpec(Path(args.input_dir), Path(args.output_dir), pipeline, rule, recursive=args.recursive,
                     include=include, exclude=exclude, resume=args.resume, max_pixels=max_pixels(args))


def run(args: argparse.Namespace, notices: NoticeHandler) -> int:
    plan = plan_batch(build_spec(args))
    if args.report is not None:  # before any work: the report may not replace a file of this run
        check_report_path(Path(args.report), plan.run_files(), created=plan.spec.output_dir)
    if args.dry_run:
        print_plan(plan)
        return 0
    bar = ProgressBar("Batch", sys.stderr, enabled=not args.quiet)
    notices.bar = bar

    def on_status(status: BatchStatus) -> None:
        bar(status.fraction, _status_line(status))

    runner = _runner(plan, args.cluster, on_status)
    with cancel_on_sigint(runner.task):
        report = runner.run()
    bar.clear()
    where = expected_provider(args.device) if args.cluster is None else \
        f"the Ray cluster {args.cluster} ({len(getattr(runner, 'workers_seen', ()))} worker processes)"
    print_report(report, where)
    if args.report is not None:
        print(f"report: {report.to_csv(Path(args.report))}")
    if report.cancelled:
        print("cancelled: finished files are kept; rerun with --resume to continue", file=sys.stderr)
        return 130
    return EXIT_SOME_FAILED if report.failed else 0


def _status_line(status: BatchStatus) -> str:
    eta = f" · {_duration(status.eta)} left" if status.eta is not None else ""
    where = f" · {status.current}" if status.current else ""
    return f"{status.finished}/{status.total}{where}{eta}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def print_plan(plan: BatchPlan) -> None:
    out_dir = plan.spec.output_dir
    for planned in plan.files:
        target = planned.output_rel(out_dir) or "-"
        note = f"  ({planned.reason})" if planned.reason else ""
        action = "fail" if planned.fails else planned.action
        print(f"{action:8} {planned.input_rel} -> {target}{note}")
    for ignored in plan.ignored:
        print(f"{'ignore':8} {ignored.relative}  ({ignored.reason})")
    work = len(plan.files) - plan.count(SKIP)
    print(f"{work} to process, {plan.count(SKIP)} skipped, {len(plan.ignored)} ignored; nothing written (dry run)")


def print_report(report: BatchReport, provider: str) -> None:
    for result in report.skipped + report.failed:
        print(f"{result.status:8} {result.input}: {result.reason}")
    rate = f", {report.images_per_second():.2f} images/s" if report.done else ""
    print(f"{report.summary()}{rate} on {provider} -> {report.output_dir}")
