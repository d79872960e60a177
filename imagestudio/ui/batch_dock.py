"""The Batch dock: a folder of images through a pipeline into an output folder, in the background.

A thin layer over imagestudio.core.batch: the widgets build a BatchSpec, Preview shows the core's plan, Run hands
the plan to the core's BatchRunner on this dock's own one-thread pool (so editing goes on meanwhile), and the
runner's status and per-file results come back through queued signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from imagestudio.core.batch import (
    CONFLICT_RULES,
    DEFAULT_TEMPLATE,
    NAMED_PIPELINES,
    OUTPUT_CHOICES,
    SKIP,
    BatchError,
    BatchPlan,
    BatchReport,
    BatchRunner,
    BatchSpec,
    BatchStatus,
    FileResult,
    OutputRule,
    load_pipeline,
    plan_batch,
    split_patterns,
    with_device,
)
from imagestudio.core.errors import ImageStudioError
from imagestudio.core.imageio.formats import SAME
from imagestudio.core.pipeline import Pipeline
from imagestudio.core.progress import Task
from imagestudio.ui import dialogs
from imagestudio.ui.batch_settings import PRESET, RememberedBatchSettings
from imagestudio.ui.history import history_pipeline
from imagestudio.ui.session import EditorSession
from imagestudio.ui.worker import Job, JobRunner

HISTORY = "history"  # pipeline choices beside the named ones: the current image's history, or PRESET (a file)
COLUMNS = ("Input", "Output", "Status", "Reason")
_ACTION_WORDS = {"process": "to do", "resume": "check (done earlier?)", "skip": "skip"}


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class BatchDock(QDockWidget):
    plan_ready = Signal(object)  # BatchPlan; emitted on the batch thread
    status_arrived = Signal(object)  # BatchStatus
    result_arrived = Signal(object)  # FileResult

    def __init__(self, session: EditorSession, parent: QWidget | None = None) -> None:
        super().__init__("Batch", parent)
        self.setObjectName("BatchDock")
        self._session = session
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.runner = JobRunner(self, self._pool)  # not the window's: a long batch must not block editing
        self._job: Job | None = None
        self._batch: BatchRunner | None = None
        self._rows: dict[str, int] = {}
        self._preset: Path | None = None
        self._pause_wanted = False
        self.report: BatchReport | None = None
        self._build()
        self.plan_ready.connect(self._show_plan)
        self.status_arrived.connect(self._show_status)
        self.result_arrived.connect(self._show_result)
        self.runner.busy_changed.connect(self._update_buttons)
        self.remembered = RememberedBatchSettings(self, session.settings)  # the panel as it was left last time
        self._update_buttons()

    # --- widgets -------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.input_edit, self.output_edit = QLineEdit(), QLineEdit()
        self.input_edit.setPlaceholderText("folder of images")
        self.output_edit.setPlaceholderText("where results go (the input's sub-folders are mirrored)")
        input_button, output_button = QPushButton("…"), QPushButton("…")
        input_button.clicked.connect(lambda: self._choose_folder(self.input_edit, "Input folder"))
        output_button.clicked.connect(lambda: self._choose_folder(self.output_edit, "Output folder"))
        self.recursive = QCheckBox("Include sub-folders")
        self.include_edit, self.exclude_edit = QLineEdit(), QLineEdit()
        self.include_edit.setPlaceholderText("e.g. *.jpg; *.png (empty: all images)")
        self.exclude_edit.setPlaceholderText("e.g. raw/*; *_small.*")
        self.pipeline_combo = QComboBox()
        for name, (title, _pipeline) in NAMED_PIPELINES.items():
            self.pipeline_combo.addItem(title, name)
        self.pipeline_combo.addItem("Current image's history", HISTORY)
        self.pipeline_combo.addItem("Preset file…", PRESET)
        self.pipeline_combo.activated.connect(self._pipeline_chosen)
        self.format_combo = QComboBox()
        for fmt in OUTPUT_CHOICES:
            self.format_combo.addItem("Same as input" if fmt == SAME else fmt, fmt)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(95)
        self.template_edit = QLineEdit(DEFAULT_TEMPLATE)
        self.template_edit.setToolTip("{stem}, {ext}, {name}, {index}; '/' makes sub-folders, '..' is refused")
        self.conflict_combo = QComboBox()
        for rule, words in zip(CONFLICT_RULES, ("Skip existing", "Overwrite", "Rename new"), strict=True):
            self.conflict_combo.addItem(words, rule)
        self.resume_check = QCheckBox("Resume an earlier run")
        self.resume_check.setToolTip("Skip the files an earlier run of this batch already finished")
        self.resume_check.setChecked(True)
        self.cluster_edit = QLineEdit()
        self.cluster_edit.setPlaceholderText("this computer (or auto, HOST:PORT, ray://HOST:PORT)")
        self.cluster_edit.setToolTip("A Ray cluster to run the files on (needs imagestudio[cluster]); the folders "
                                     "and models must be on storage every node mounts at the same path")

        self.preview_button = QPushButton("Preview")
        self.run_button = QPushButton("Run")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.cancel_button = QPushButton("Cancel")
        self.export_button = QPushButton("Export report…")
        self.preview_button.clicked.connect(lambda: self.preview())
        self.run_button.clicked.connect(lambda: self.run())
        self.pause_button.toggled.connect(self.set_paused)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(lambda: self.export_report())

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.overall = QProgressBar()
        self.overall.setFormat("overall %p%")
        self.file_progress = QProgressBar()
        self.file_progress.setFormat("file %p%")
        self.status_label = QLabel("Choose an input and an output folder")
        self.status_label.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Input", self._with_button(self.input_edit, input_button))
        form.addRow("", self.recursive)
        form.addRow("Include", self.include_edit)
        form.addRow("Exclude", self.exclude_edit)
        form.addRow("Output", self._with_button(self.output_edit, output_button))
        format_row = QHBoxLayout()
        format_row.addWidget(self.format_combo)
        format_row.addWidget(QLabel("Quality"))
        format_row.addWidget(self.quality)
        form.addRow("Format", format_row)
        form.addRow("Name", self.template_edit)
        form.addRow("If it exists", self.conflict_combo)
        form.addRow("", self.resume_check)
        form.addRow("Pipeline", self.pipeline_combo)
        form.addRow("Run on", self.cluster_edit)
        buttons = QGridLayout()  # two rows: the dock stays narrow beside the canvas
        for column, button in enumerate((self.preview_button, self.run_button, self.pause_button, self.cancel_button)):
            buttons.addWidget(button, 0, column)
        buttons.addWidget(self.export_button, 1, 0, 1, 4)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.overall)
        layout.addWidget(self.file_progress)
        layout.addWidget(self.status_label)
        self.setWidget(body)

    @staticmethod
    def _with_button(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(button)
        return row

    def _choose_folder(self, edit: QLineEdit, title: str) -> None:
        folder = dialogs.ask_folder(self, title, edit.text() or self._session.settings.get("files/last_folder"))
        if folder is not None:
            edit.setText(str(folder))

    def _pipeline_chosen(self, index: int) -> None:
        if self.pipeline_combo.itemData(index) == PRESET:
            folder = self._session.settings.get("files/last_folder")
            path = dialogs.ask_preset_path(self, for_saving=False, folder=folder)
            if path is None:
                self.pipeline_combo.setCurrentIndex(0)
                return
            self._preset = path
            self.pipeline_combo.setItemText(index, f"Preset {path.name}")
            self.remembered.save()

    @property
    def preset(self) -> Path | None:
        return self._preset

    def set_preset(self, path: Path) -> None:
        """A preset file as the pipeline, named in the list (for restoring settings)."""
        self._preset = path
        index = self.pipeline_combo.findData(PRESET)
        self.pipeline_combo.setItemText(index, f"Preset {path.name}")
        self.pipeline_combo.setCurrentIndex(index)

    def choose_pipeline(self, choice: str, preset: Path | None = None) -> None:
        """Selects a named pipeline, HISTORY, or PRESET with its file (for scripts and tests)."""
        self._preset = preset if choice == PRESET else self._preset
        self.pipeline_combo.setCurrentIndex(self.pipeline_combo.findData(choice))
        self.remembered.save()

    @Slot()
    def _update_buttons(self, *_: object) -> None:
        busy = self.runner.busy
        self.preview_button.setEnabled(not busy)
        self.run_button.setEnabled(not busy)
        self.pause_button.setEnabled(busy and self._job is not None and self._job.label == "Batch")
        self.cancel_button.setEnabled(busy)
        self.export_button.setEnabled(not busy and self.report is not None)
        if not busy and self.pause_button.isChecked():
            self.pause_button.setChecked(False)

    # --- the job -------------------------------------------------------------------------------------------------
    def pipeline(self) -> Pipeline:
        choice = self.pipeline_combo.currentData()
        if choice == HISTORY:
            pipeline = history_pipeline(self._session.undo_stack)
            if not pipeline.steps:
                raise BatchError("the current image has no edits in its history to repeat on the batch")
        elif choice == PRESET:
            if self._preset is None:
                raise BatchError("choose a preset file for the pipeline")
            pipeline = load_pipeline(self._preset)
        else:
            pipeline = load_pipeline(choice)
        return with_device(pipeline, self._session.settings.device)

    def spec(self) -> BatchSpec:
        if not self.input_edit.text().strip() or not self.output_edit.text().strip():
            raise BatchError("choose both an input folder and an output folder")
        rule = OutputRule(format=self.format_combo.currentData(), quality=self.quality.value(),
                          template=self.template_edit.text().strip(), conflict=self.conflict_combo.currentData())
        return BatchSpec(Path(self.input_edit.text().strip()).expanduser(),
                         Path(self.output_edit.text().strip()).expanduser(), self.pipeline(), rule,
                         recursive=self.recursive.isChecked(), include=split_patterns(self.include_edit.text()),
                         exclude=split_patterns(self.exclude_edit.text()), resume=self.resume_check.isChecked(),
                         max_pixels=self._session.settings.max_pixels)

    def _checked_spec(self) -> BatchSpec | None:
        try:
            return self.spec()
        except ImageStudioError as exc:
            dialogs.show_error(self, "The batch cannot start", str(exc))
            return None

    def preview(self) -> Job | None:
        spec = self._checked_spec()
        if spec is None or self.runner.busy:
            return None

        def work(task: Task) -> BatchPlan:
            plan = plan_batch(spec)
            self.plan_ready.emit(plan)
            return plan

        return self._submit(Job("Batch preview", work))

    def run(self) -> Job | None:
        spec = self._checked_spec()
        if spec is None or self.runner.busy:
            return None
        self.report = None
        cluster = self.cluster_edit.text().strip() or None
        if cluster is not None and not self._cluster_usable(cluster):
            return None

        def work(task: Task) -> BatchReport:
            plan = plan_batch(spec)
            self.plan_ready.emit(plan)
            batch = self._runner(plan, cluster, task)
            if self._pause_wanted:  # Pause was pressed while the folder was still being scanned
                batch.pause()
            self._batch = batch
            self.report = self._batch.run()  # kept here too: a cancelled job hands back no result
            return self.report

        return self._submit(Job("Batch", work))

    def _cluster_usable(self, address: str) -> bool:
        """The address well formed and Ray installed: said now, in a dialog, not after the folder is scanned."""
        from imagestudio.core.batch.cluster import check_address, import_ray  # noqa: PLC0415 - only for a cluster

        try:
            check_address(address)
            import_ray()
        except ImageStudioError as exc:
            dialogs.show_error(self, "The batch cannot start", str(exc))
            return False
        return True

    def _runner(self, plan: BatchPlan, cluster: str | None, task: Task) -> BatchRunner:
        if cluster is None:
            return BatchRunner(plan, on_status=self.status_arrived.emit, on_result=self.result_arrived.emit,
                               task=task)
        from imagestudio.core.batch.cluster import ClusterOptions, ClusterRunner  # noqa: PLC0415

        return ClusterRunner(plan, ClusterOptions(cluster), on_status=self.status_arrived.emit,
                             on_result=self.result_arrived.emit, task=task)

    def _submit(self, job: Job) -> Job:
        job.succeeded.connect(self._job_succeeded)
        job.failed.connect(self._job_failed)
        job.cancelled.connect(self._job_cancelled)
        job.done.connect(self._job_done)
        self._job = job
        return self.runner.submit(job)

    def set_paused(self, paused: bool) -> None:
        self._pause_wanted = paused
        self.pause_button.setText("Resume" if paused else "Pause")
        batch = self._batch
        if batch is None:
            return
        if paused:
            batch.pause()
        else:
            batch.resume()

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """On quit: stop the batch (finished files stay recorded for a resume) and wait for its threads."""
        self.cancel()
        self._pool.waitForDone(timeout_ms)

    # --- results -------------------------------------------------------------------------------------------------
    @Slot(object)
    def _show_plan(self, plan: BatchPlan) -> None:
        self.table.setRowCount(0)
        self._rows.clear()
        out_dir = plan.spec.output_dir
        for planned in plan.files:
            status = _ACTION_WORDS[planned.action]
            self._rows[planned.input_rel] = self._add_row(planned.input_rel, planned.output_rel(out_dir) or "",
                                                          status, planned.reason)
        for ignored in plan.ignored:
            self._add_row(ignored.relative, "", "skip", ignored.reason)
        work = len(plan.files) - plan.count(SKIP)
        self.status_label.setText(f"{work} to process, {plan.count(SKIP) + len(plan.ignored)} to skip")

    def _add_row(self, *cells: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate(cells):
            self.table.setItem(row, column, QTableWidgetItem(text))
        return row

    @Slot(object)
    def _show_result(self, result: FileResult) -> None:
        row = self._rows.get(result.input)
        if row is None:
            return
        for column, text in ((1, result.output or ""), (2, result.status), (3, result.reason)):
            self.table.setItem(row, column, QTableWidgetItem(text))

    @Slot(object)
    def _show_status(self, status: BatchStatus) -> None:
        self.overall.setValue(round(100 * status.fraction))
        self.file_progress.setValue(round(100 * status.file_fraction))
        parts = [f"{status.finished}/{status.total}", f"{status.done} done", f"{status.skipped} skipped",
                 f"{status.failed} failed"]
        if status.eta is not None and status.finished < status.total:
            parts.append(f"{_duration(status.eta)} left")
        if status.paused:
            parts.append("paused")
        elif status.current:
            parts.append(status.current)
        self.status_label.setText(" · ".join(parts))

    def cell(self, input_rel: str, column: int) -> str:
        """A table cell of one input's row (for tests and scripts)."""
        row = self._rows[input_rel]
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    @Slot(object)
    def _job_succeeded(self, result: object) -> None:
        if isinstance(result, BatchReport):
            self.status_label.setText(f"Finished: {result.summary()}")

    @Slot(object, str)
    def _job_failed(self, error: Exception, details: str) -> None:
        self.status_label.setText("The batch could not run")
        dialogs.show_error(self, "The batch could not run", str(error), details)

    @Slot()
    def _job_cancelled(self) -> None:
        if self.report is not None:
            self.status_label.setText(f"Cancelled: {self.report.summary()}; Run again to resume")

    @Slot(object)
    def _job_done(self, job: Job) -> None:
        self._batch = None
        self._job = None
        self._update_buttons()

    def export_report(self, path: Path | None = None) -> Path | None:
        if self.report is None:
            return None
        if path is None:
            suggested = self.report.output_dir / "batch-report.csv"
            path = dialogs.ask_save_path(self, "Export the batch report", suggested, "CSV files (*.csv)")
            if path is None:
                return None
        try:
            written = self.report.to_csv(path)
        except ImageStudioError as exc:
            dialogs.show_error(self, "Could not export the report", str(exc))
            return None
        self.status_label.setText(f"Report written to {written}")
        return written
