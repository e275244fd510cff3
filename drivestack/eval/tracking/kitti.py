"""Evaluate KITTI tracking result files: CLEAR-MOT/sAMOTA (AB3DMOT protocol) and HOTA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from drivestack.core.errors import DataError
from drivestack.eval.tracking.clear import ClearSummary, evaluate_clear
from drivestack.eval.tracking.hota import HotaResult, compute_hota, hota_inputs
from drivestack.eval.tracking.prepare import prepare_class_data
from drivestack.eval.tracking.protocol import KittiMotProtocol, class_rule
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import SeqmapEntry, read_tracking_labels


@dataclass(frozen=True)
class ClassMetrics:
    cls: str
    clear: ClearSummary
    hota: HotaResult

    def as_dict(self) -> dict[str, object]:
        return {"class": self.cls, "clear": self.clear.as_dict(), "hota": self.hota.as_dict()}


def result_file(results_dir: Path, cls: str, sequence: str) -> Path:
    """``<results>/<Class>/NNNN.txt`` when that folder exists, else ``<results>/NNNN.txt``."""
    per_class = results_dir / cls
    if per_class.is_dir():
        return per_class / f"{sequence}.txt"
    return results_dir / f"{sequence}.txt"


def evaluate_class(
    cls: str,
    seqmap: Sequence[SeqmapEntry],
    ground_truth: dict[str, KittiObjects],
    results: dict[str, KittiObjects],
    protocol: KittiMotProtocol,
) -> ClassMetrics:
    """Evaluate one class on the sequences of ``seqmap`` (already loaded rows)."""
    return evaluate_class_thresholds(
        cls, seqmap, ground_truth, results, protocol, [protocol.min_overlap]
    )[0]


def evaluate_class_thresholds(
    cls: str,
    seqmap: Sequence[SeqmapEntry],
    ground_truth: dict[str, KittiObjects],
    results: dict[str, KittiObjects],
    protocol: KittiMotProtocol,
    min_overlaps: Sequence[float],
) -> list[ClassMetrics]:
    """Evaluate one class at several IoU thresholds, preparing the data (and HOTA) once."""
    class_rule(cls)
    seqs = []
    for entry in seqmap:
        if entry.name not in results:
            raise DataError(f"no tracking result for sequence {entry.name}", record=cls)
        seqs.append(
            (
                entry.name,
                entry.first_frame + entry.n_frames,
                ground_truth[entry.name],
                results[entry.name],
            )
        )
    data = prepare_class_data(cls, seqs, protocol)
    hota = compute_hota(hota_inputs(data, protocol))
    return [
        ClassMetrics(cls, evaluate_clear(data, replace(protocol, min_overlap=iou)), hota)
        for iou in min_overlaps
    ]


def load_ground_truth(label_dir: Path, seqmap: Sequence[SeqmapEntry]) -> dict[str, KittiObjects]:
    return {e.name: read_tracking_labels(label_dir / f"{e.name}.txt") for e in seqmap}


def load_results(
    results_dir: Path, cls: str, seqmap: Sequence[SeqmapEntry]
) -> dict[str, KittiObjects]:
    """Result rows per sequence; a missing sequence file is an error (an empty one is fine)."""
    return {e.name: read_tracking_labels(result_file(results_dir, cls, e.name)) for e in seqmap}


def evaluate_kitti_tracking(
    label_dir: str | Path,
    results_dir: str | Path,
    seqmap: Sequence[SeqmapEntry],
    classes: Sequence[str],
    protocol: KittiMotProtocol | None = None,
) -> dict[str, ClassMetrics]:
    """Evaluate result files (``<results>/<Class>/NNNN.txt`` or ``<results>/NNNN.txt``)."""
    proto = protocol or KittiMotProtocol()
    gt = load_ground_truth(Path(label_dir), seqmap)
    return {
        cls: evaluate_class(cls, seqmap, gt, load_results(Path(results_dir), cls, seqmap), proto)
        for cls in classes
    }


def format_table(metrics: dict[str, ClassMetrics]) -> str:
    """A plain-text table, values in percent like AB3DMOT's README tables."""
    head = f"{'class':<11}{'sAMOTA':>8}{'AMOTA':>8}{'AMOTP':>8}{'MOTA':>8}{'MOTP':>8}{'IDS':>6}{'FRAG':>6}{'FP':>7}{'FN':>7}{'MT':>7}{'ML':>7}{'HOTA':>8}{'DetA':>8}{'AssA':>8}{'LocA':>8}"
    lines = [head]
    for cls, m in metrics.items():
        b = m.clear.best
        lines.append(
            f"{cls:<11}{100 * m.clear.sAMOTA:8.2f}{100 * m.clear.AMOTA:8.2f}{100 * m.clear.AMOTP:8.2f}"
            f"{100 * b.MOTA:8.2f}{100 * b.MOTP:8.2f}{b.IDS:6d}{b.FRAG:6d}{b.FP:7d}{b.FN:7d}"
            f"{100 * b.MT:7.2f}{100 * b.ML:7.2f}{100 * m.hota.HOTA:8.2f}{100 * m.hota.DetA:8.2f}"
            f"{100 * m.hota.AssA:8.2f}{100 * m.hota.LocA:8.2f}"
        )
    return "\n".join(lines)
