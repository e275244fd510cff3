"""The Argoverse 2 vector-map archive of a log (``map/log_map_archive_*.json``).

One JSON document per log holds the map's layers (``lane_segments``, ``drivable_areas``,
``pedestrian_crossings``); :func:`read_av2_map_archive` parses it once and :meth:`Av2MapArchive.layer` reads one layer
(:func:`read_av2_map_layer` both at once), turning any malformed content into a
:class:`~drivestack.core.errors.DataError` naming the file and the layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from drivestack.core.errors import DataError

T = TypeVar("T")


@dataclass(frozen=True)
class Av2MapArchive:
    """A log's parsed map archive: ``path`` and its JSON ``document`` (read once, layers
    parsed on demand by :meth:`layer`)."""

    path: Path
    document: Any

    def layer(self, layer: str, parse: Callable[[dict[str, Any]], T]) -> T:
        """``parse(document[layer])``; ``DataError`` naming the file and ``layer`` when the
        document lacks it or ``parse`` finds it malformed (``KeyError``, ``TypeError`` or
        ``ValueError``)."""
        try:
            return parse(self.document[layer])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"bad {layer}: {exc!r}", path=str(self.path), field=layer) from None


def read_av2_map_archive(map_dir: str | Path) -> Av2MapArchive:
    """The map archive of a log's ``map/`` folder, parsed.

    Raises:
        DataError: naming the folder when there is no map archive (pointing to its ``map/``
            when it is a log folder), or the file when it is not JSON.
    """
    folder = Path(map_dir)
    paths = sorted(folder.glob("log_map_archive_*.json"))
    if not paths:
        if (folder / "map").is_dir():
            raise DataError(
                f"no log_map_archive_*.json: this is a log folder: its map is in {folder / 'map'}",
                path=str(map_dir),
            )
        raise DataError("no log_map_archive_*.json", path=str(map_dir))
    try:
        return Av2MapArchive(paths[0], json.loads(paths[0].read_text()))
    except ValueError as exc:
        raise DataError(f"not JSON: {exc!r}", path=str(paths[0])) from None


def read_av2_map_layer(
    map_dir: str | Path, layer: str, parse: Callable[[dict[str, Any]], T]
) -> tuple[T, Path]:
    """``(parse(archive[layer]), archive path)`` for a log's ``map/`` folder
    (:func:`read_av2_map_archive`, then :meth:`Av2MapArchive.layer`)."""
    archive = read_av2_map_archive(map_dir)
    return archive.layer(layer, parse), archive.path
