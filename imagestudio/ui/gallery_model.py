"""The gallery's thumbnail grid: a list model of core GalleryItems, shown by QListViews in icon mode."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from imagestudio.core.gallery import GalleryItem
from imagestudio.core.image import Image, to_uint8

THUMBNAIL = 96  # pixels: the models draw 64 px images, shown a little larger, pixel-sharp
ItemRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


def thumbnail(image: Image, side: int = THUMBNAIL) -> QPixmap:
    rgb = image.rgb
    if image.alpha is not None:  # over white, as the models see it
        rgb = rgb * image.alpha[:, :, None] + (1.0 - image.alpha[:, :, None])
    pixels = np.ascontiguousarray(to_uint8(rgb))
    height, width = pixels.shape[:2]
    picture = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()  # owns its bytes
    mode = Qt.TransformationMode.FastTransformation if max(width, height) < side else \
        Qt.TransformationMode.SmoothTransformation
    return QPixmap.fromImage(picture.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode))


class GalleryModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[GalleryItem] = []
        self._icons: list[QIcon] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.title
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.recipe
        if role == ItemRole:
            return item
        return None

    def add(self, items: list[GalleryItem]) -> None:
        if not items:
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
        self._items.extend(items)
        self._icons.extend(QIcon(thumbnail(item.image)) for item in items)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._items.clear()
        self._icons.clear()
        self.endResetModel()

    def item(self, row: int) -> GalleryItem:
        return self._items[row]

    @property
    def items(self) -> list[GalleryItem]:
        return list(self._items)


class GalleryView(QListView):
    """Thumbnails in a wrapping grid (gallery) or one scrolling row (the blend strip)."""

    def __init__(self, model: GalleryModel, *, strip: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.setGridSize(QSize(THUMBNAIL + 12, THUMBNAIL + 24))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        if strip:
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(False)
            self.setFixedHeight(THUMBNAIL + 48)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def gallery_model(self) -> GalleryModel:
        model = self.model()
        assert isinstance(model, GalleryModel)
        return model

    def selected_items(self) -> list[GalleryItem]:
        rows = sorted(index.row() for index in self.selectionModel().selectedIndexes())
        return [self.gallery_model().item(row) for row in rows]

    def select_rows(self, rows: list[int]) -> None:
        from PySide6.QtCore import QItemSelectionModel

        selection = self.selectionModel()
        selection.clearSelection()
        for row in rows:
            selection.select(self.model().index(row, 0), QItemSelectionModel.SelectionFlag.Select)
        if rows:
            selection.setCurrentIndex(self.model().index(rows[-1], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
