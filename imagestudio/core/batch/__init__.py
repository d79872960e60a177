"""Batch jobs: a folder of images through a pipeline into a mirrored output folder, resumably and safely.

    spec = BatchSpec(Path("in"), Path("out"), load_pipeline("upscale-x4"), OutputRule(template="{stem}_x4.{ext}"))
    plan = plan_batch(spec)            # the preview: every input, its output name and what will happen
    report = BatchRunner(plan).run()   # read -> pipeline -> write overlapped; per-file results
    report.to_csv(Path("report.csv"))
"""

from imagestudio.core.batch.discover import Ignored, SourceFile, discover, split_patterns
from imagestudio.core.batch.manifest import MANIFEST_NAME, Manifest, pipeline_hash
from imagestudio.core.batch.naming import CONFLICT_RULES, DEFAULT_TEMPLATE, OutputRule
from imagestudio.core.batch.pipelines import NAMED_PIPELINES, load_pipeline, pipeline_models, with_device
from imagestudio.core.batch.plan import PROCESS, RESUME, SKIP, BatchPlan, BatchSpec, PlannedFile, plan_batch
from imagestudio.core.batch.report import CANCELLED, DONE, FAILED, SKIPPED, BatchReport, FileResult
from imagestudio.core.batch.runner import BatchRunner, BatchStatus, run_batch
from imagestudio.core.errors import BatchError
from imagestudio.core.hashing import file_sha256
from imagestudio.core.imageio.formats import OUTPUT_CHOICES

__all__ = [
    "CANCELLED", "CONFLICT_RULES", "DEFAULT_TEMPLATE", "DONE", "FAILED", "MANIFEST_NAME", "NAMED_PIPELINES",
    "OUTPUT_CHOICES", "PROCESS", "RESUME", "SKIP", "SKIPPED", "BatchError", "BatchPlan", "BatchReport",
    "BatchRunner", "BatchSpec", "BatchStatus", "FileResult", "Ignored", "Manifest", "OutputRule", "PlannedFile",
    "SourceFile", "discover", "file_sha256", "load_pipeline", "pipeline_hash", "pipeline_models", "plan_batch",
    "run_batch", "split_patterns", "with_device",
]
