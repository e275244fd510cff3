"""Write the third-party reference lanes that tests/ingest/maps/test_opendrive.py checks
``read_opendrive`` against: the lane borders and lane links that ``opendrive2lanelet`` (TUM's
OpenDRIVE -> CommonRoad converter, PyPI ``opendrive2lanelet==1.2.1``) computes for the esmini
OpenDRIVE files in the shared data folder.

opendrive2lanelet 1.2.1 no longer exports scenarios with current commonroad-io, and it reads no
``type="direct"`` junction (so soderleden.xodr is left out); this tool reads its parametric lane
groups directly, before its lane merging. Run it in a virtualenv of its own (it pins protobuf
3.20 and pulls in commonroad-io)::

    python3.11 -m venv /tmp/o2l && /tmp/o2l/bin/pip install opendrive2lanelet==1.2.1
    /tmp/o2l/bin/python tools/opendrive_reference.py ../shared/data/opendrive_esmini \\
        tests/ingest/maps/data/opendrive2lanelet_reference.json

Each lane of a type drivestack reads (id ``<road>_<section>_<lane>`` as drivestack names it) keeps 11 points of its inner
and outer border, evenly spaced along the lane (mm precision), its type, and its successors and
predecessors in driving direction.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

N_POINTS = 11
#: Lane types drivestack reads (the others only place the lanes beyond them).
READ_TYPES = {"driving", "entry", "exit", "onRamp", "offRamp", "connectingRamp", "sidewalk"}


def _drivestack_id(group_id: str) -> str:
    road, section, lane, _width = group_id.split(".")
    return f"{road}_{section}_{lane}"


def _lanes(path: Path) -> dict[str, dict[str, object]]:
    from lxml import etree
    from opendrive2lanelet.network import Network
    from opendrive2lanelet.opendriveparser.parser import parse_opendrive

    with path.open() as fh:
        network = Network()
        network.load_opendrive(parse_opendrive(etree.parse(fh).getroot()))
    out: dict[str, dict[str, object]] = {}
    for group in network._planes:
        inner, outer = [], []
        for lane in group.parametric_lanes:
            left, right = lane.calc_vertices(0.5)
            if left is not None:
                inner.append(left[:, :2])
                outer.append(right[:, :2])
        if not inner or group.type not in READ_TYPES:
            continue
        pick = np.linspace(0, sum(len(a) for a in inner) - 1, N_POINTS).round().astype(int)
        out[_drivestack_id(group.id_)] = {
            "type": group.type,
            "inner": np.vstack(inner)[pick].round(3).tolist(),
            "outer": np.vstack(outer)[pick].round(3).tolist(),
            "successors": sorted(
                _drivestack_id(i) for i in network._link_index.get_successors(group.id_)
            ),
            "predecessors": sorted(
                _drivestack_id(i) for i in network._link_index.get_predecessors(group.id_)
            ),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the reference; bad arguments are an argparse error (one line, exit status 2).
    (Runs in opendrive2lanelet's own virtualenv: no drivestack import here.)"""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="folder of esmini .xodr files")
    parser.add_argument("out", type=Path, help="reference JSON file to write")
    args = parser.parse_args(argv)
    folder, out = args.folder, args.out
    if not folder.is_dir():
        parser.error(f"{folder}: no such folder")
    paths = sorted(folder.glob("*.xodr"))
    if not paths:
        parser.error(f"{folder}: no .xodr file in it")
    if out.is_dir():
        parser.error(f"{out}: is a folder; give the JSON file's name")
    if not out.parent.is_dir():
        parser.error(f"{out.parent}: no such folder (for {out})")
    try:  # the converter itself (else every file would be left out and an empty file written)
        import lxml  # noqa: F401
        import opendrive2lanelet  # noqa: F401
    except ImportError as exc:
        parser.error(f"needs opendrive2lanelet==1.2.1 in its own virtualenv (see --help): {exc}")
    reference = {}
    for path in paths:
        try:
            reference[path.name] = _lanes(path)
        except Exception as exc:  # a file the converter cannot read is left out, and said so
            print(f"{path.name}: opendrive2lanelet fails ({type(exc).__name__}: {exc}); left out")
    try:
        out.write_text(json.dumps(reference, separators=(",", ":")) + "\n")
    except OSError as exc:
        parser.error(f"{out}: {exc.strerror or exc}")
    print(f"{out}: {sum(len(v) for v in reference.values())} lanes from {len(reference)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
