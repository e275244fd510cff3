"""The Argoverse 2 vector-map archive of a log (``map/log_map_archive_*.json``).

One JSON document per log holds the map's layers (``lane_segments``, ``drivable_areas``,
``pedestrian_crossings``); :func:`read_av2_map_layer` reads one layer and turns any malformed
content into a :class:`~drivestack.core.errors.DataError` naming the file and the layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from drivestack.core.errors import DataError

T = TypeVar("T")


def read_av2_map_layer(
    map_dir: str | Path, layer: str, parse: Callable[[dict[str, Any]], T]
) -> tuple[T, Path]:
    """``(parse(archive[layer]), archive path)`` for a log's ``map/`` folder.

    Raises:
        DataError: naming the folder when there is no map archive, or the file and ``layer``
            when the file is not JSON, lacks the layer, or ``parse`` finds it malformed
            (``KeyError``, ``TypeError`` or ``ValueError``).
    """
    paths = sorted(Path(map_dir).glob("log_map_archive_*.json"))
    if not paths:
        raise DataError("no log_map_archive_*.json", path=str(map_dir))
    try:
        return parse(json.loads(paths[0].read_text())[layer]), paths[0]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"bad {layer}: {exc!r}", path=str(paths[0]), field=layer) from None
