"""The CLI's --backend and --precision options, shared by every command that runs models, and how it says what ran.

They set the process-wide request of core/runtime_choice.py (in the environment, so batch worker processes follow
it); the core then picks per CPU and per model, and each run reports what really computed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from imagestudio.core.models_ran import ModelRun
from imagestudio.core.runtime_choice import BACKENDS, PRECISIONS, set_requested


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="CPU inference runtime (default: auto — OpenVINO where it runs the chosen precision, "
                             "else onnxruntime; CUDA always runs onnxruntime)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="CPU precision (default: auto — bf16 on CPUs with AMX/AVX512-BF16 for models whose card "
                             "measured ≤ 0.05 dB loss, int8 where the card ships a faster variant, else fp32)")


def apply_runtime_options(args: argparse.Namespace) -> None:
    """Sets the request for this process from the parsed options (a contradiction is refused in one line)."""
    if hasattr(args, "backend") and hasattr(args, "precision"):
        from imagestudio.core.runtime_choice import check_request

        check_request(args.backend, args.precision, getattr(args, "device", "auto"))
        set_requested(args.backend, args.precision)


def models_used(ran: Sequence[ModelRun]) -> str:
    """'upscale-x4 on OpenVINO CPU [openvino bf16, cpu]': each model with what really ran it."""
    return ", ".join(f"{r.card.name} on {r.provider} [{r.backend} {r.precision}, {r.device}]" for r in ran)
