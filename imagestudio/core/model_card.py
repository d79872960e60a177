"""The names of a model card's fields: the keys of an ONNX file's `metadata_props`.

Training's export writes them (`training/export.py`, `training/export_generative.py`, `training/precision.py`), the
core reads them (`core/models.py`, `core/card_values.py`, `core/runtime.py`): each key is spelled here once. What the
values mean and which are allowed is docs/design/core-contracts.md and core/card_values.py.
"""

from __future__ import annotations

# What the model is
NAME = "name"
TITLE = "title"
DESCRIPTION = "description"
TASK = "task"  # upscale | denoise | lowlight | generate | encode | decode
VERSION = "version"
EXPORTED = "exported"  # the export's date

# How to run it
SCALE = "scale"
INPUT_RANGE = "input_range"
OUTPUT_RANGE = "output_range"
CHANNEL_ORDER = "channel_order"
LAYOUT = "layout"
TILE_MULTIPLE = "tile_multiple"
RECEPTIVE_RADIUS = "receptive_radius"
OUTPUT_KIND = "output_kind"  # image | curve | gain-curve
LATENT_SIZE = "latent_size"
LATENT_DISTRIBUTION = "latent_distribution"
RESOLUTION = "resolution"
PAIR = "pair"  # a VAE encoder's decoder and the other way round
OUTPUTS = "outputs"  # what a model with several outputs returns, in words

# How it was made, and how well it does
ARCHITECTURE = "architecture"
PARAMETERS = "parameters"
WEIGHTS_STORAGE = "weights_storage"
TRAINING_DATA = "training_data"
LICENCE = "licence"
TRAINING = "training"  # JSON: iterations and the training config
METRICS = "metrics"  # JSON object
PRECISION_LOSS_DB = "precision_loss_db"  # JSON: {"bf16": dB, "int8": dB} lost against fp32
INT8_FILE = "int8_file"  # the int8 variant's file name beside the model

KEYS = (NAME, TITLE, DESCRIPTION, TASK, VERSION, EXPORTED, SCALE, INPUT_RANGE, OUTPUT_RANGE, CHANNEL_ORDER, LAYOUT,
        TILE_MULTIPLE, RECEPTIVE_RADIUS, OUTPUT_KIND, LATENT_SIZE, LATENT_DISTRIBUTION, RESOLUTION, PAIR, OUTPUTS,
        ARCHITECTURE, PARAMETERS, WEIGHTS_STORAGE, TRAINING_DATA, LICENCE, TRAINING, METRICS, PRECISION_LOSS_DB,
        INT8_FILE)
