"""Argoverse 2 map ground-height raster (the av2-api ``GroundHeightLayer``).

Every AV2 sensor log's ``map/`` folder holds ``<log_id>_ground_height_surface____<CITY>.npy``
(float16 ``(H, W)`` ground z in the city frame, metres, NaN where unmapped; 0.3 m cells) and
``<log_id>___img_Sim2_city.json`` (``{"R": [4], "t": [2], "s": float}``: the Sim(2)
``grid_from_city``, ``p_grid = s * (R @ p_city + t)``). The height under a city position is
the cell ``[row, col] = [floor(p_grid_y), floor(p_grid_x)]``; NaN outside the raster. (av2-api
truncates towards zero, which also maps grid coordinates in (-1, 0) to cell 0; here they are
outside.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError

HEIGHT_GLOB = "*_ground_height_surface____*.npy"
SIM2_GLOB = "*___img_Sim2_city.json"


@dataclass(frozen=True)
class GroundHeightRaster:
    """Ground z on a regular grid with a Sim(2) from the world frame to grid coordinates.

    Attributes:
        height_m: ``(H, W)`` float32 ground z in the world frame (NaN: unknown); row = grid y,
            column = grid x.
        rotation: ``(2, 2)`` ``R`` of ``grid_from_world``.
        translation_m: ``(2,)`` ``t`` of ``grid_from_world`` (world units, applied before the
            scale).
        scale: cells per metre ``s``: ``p_grid = s * (R @ p_world + t)``.
        path: the file the heights came from (for error messages).
    """

    height_m: np.ndarray
    rotation: np.ndarray
    translation_m: np.ndarray
    scale: float
    path: str = ""

    def __post_init__(self) -> None:
        if self.height_m.ndim != 2:
            raise DataError(
                f"need a 2-D height raster, got shape {self.height_m.shape}", path=self.path
            )
        if self.rotation.shape != (2, 2) or self.translation_m.shape != (2,):
            raise DataError("need R (2, 2) and t (2,)", path=self.path)
        if not np.isfinite(self.scale) or self.scale <= 0:
            raise DataError(f"need a positive scale, got {self.scale}", path=self.path)

    def grid_xy(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N, 2)`` grid coordinates (x = column, y = row; cells) of ``(N, 2)`` world xy."""
        xy = np.asarray(xy_world_m, dtype=np.float64).reshape(-1, 2)
        return self.scale * (xy @ self.rotation.T + self.translation_m)

    def height_at(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` float64 ground z under ``(N, 2)`` world xy (nearest cell); NaN outside."""
        cell = np.floor(self.grid_xy(xy_world_m))
        col, row = cell[:, 0], cell[:, 1]
        rows, cols = self.height_m.shape
        inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        flat = np.where(inside, row * cols + col, 0).astype(np.int64)
        return np.where(inside, self.height_m.ravel()[flat], np.nan).astype(np.float64)


def _one_file(map_dir: Path, pattern: str) -> Path:
    """The single file matching ``pattern`` in ``map_dir``; DataError naming what is missing."""
    found = sorted(map_dir.glob(pattern))
    if len(found) != 1:
        what = "no file" if not found else f"{len(found)} files"
        raise DataError(
            f"{what} matching {pattern!r}: need the log's ground-height raster", path=str(map_dir)
        )
    return found[0]


def read_sim2_json(path: str | Path) -> tuple[np.ndarray, np.ndarray, float]:
    """``(R (2, 2), t (2,), s)`` of an av2 ``Sim2`` JSON file (``R`` row-major)."""
    try:
        doc = json.loads(Path(path).read_text())
        rotation = np.asarray(doc["R"], dtype=np.float64).reshape(2, 2)
        translation = np.asarray(doc["t"], dtype=np.float64).reshape(2)
        scale = float(doc["s"])
    except OSError as exc:
        raise DataError(f"cannot read Sim(2) JSON: {exc}", path=str(path)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"bad Sim(2) JSON (need R [4], t [2], s): {exc!r}", path=str(path)
        ) from None
    for name in ("R", "t", "s"):  # float() / NumPy would read "1_0", "\uff11" or true
        text = next(
            (v for v in np.asarray(doc[name], dtype=object).ravel() if isinstance(v, str | bool)),
            None,
        )
        if text is not None:
            raise DataError(f"not a JSON number: {text!r}", path=str(path), field=name)
    for name, values in (("R", rotation), ("t", translation)):
        if not np.isfinite(values).all():  # a null reads as NaN
            raise DataError(
                f"null, NaN or infinite value: {doc[name]!r}", path=str(path), field=name
            )
    return rotation, translation, scale


def read_av2_ground_height(map_dir: str | Path) -> GroundHeightRaster:
    """The ground-height raster of one log's ``map/`` folder (city frame).

    Raises:
        DataError: the raster or its Sim(2) JSON is missing (the folder and the expected name
            are named), unreadable or malformed.
    """
    folder = Path(map_dir)
    npy = _one_file(folder, HEIGHT_GLOB)
    rotation, translation, scale = read_sim2_json(_one_file(folder, SIM2_GLOB))
    try:
        heights = np.load(npy, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read ground-height raster: {exc}", path=str(npy)) from None
    if heights.dtype.kind not in "fiu" or heights.size == 0:
        raise DataError(
            f"need a non-empty numeric raster, got {heights.dtype} {heights.shape}", path=str(npy)
        )
    return GroundHeightRaster(
        np.asarray(heights, dtype=np.float32), rotation, translation, scale, str(npy)
    )


@dataclass(frozen=True)
class LazyAv2GroundHeight:
    """A log's ground-height raster read on the first :meth:`height_at` call (a frame can carry
    it at no cost when nothing asks for it; a missing raster raises only then).

    Attributes:
        map_dir: the log's ``map/`` folder.
    """

    map_dir: Path

    @cached_property
    def raster(self) -> GroundHeightRaster:
        """The raster (read once); DataError naming the file when missing or bad."""
        return read_av2_ground_height(self.map_dir)

    def height_at(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` ground z under ``(N, 2)`` city xy; NaN outside the raster."""
        return self.raster.height_at(xy_world_m)
