"""Evaluation: the reference protocols, re-implemented vectorised and checked against the
reference evaluators' own outputs (``tests/eval``).

- :mod:`~drivestack.eval.detection`: 3D detection. KITTI object AP11 / AP40 (2D, BEV, 3D,
  AOS; :func:`~drivestack.eval.detection.kitti.kitti_eval`), nuScenes centre-distance AP and
  TP errors (:func:`~drivestack.eval.detection.nuscenes.evaluate`), Argoverse 2 AP / ATE /
  ASE / AOE / CDS (:func:`~drivestack.eval.detection.argoverse2.evaluate`), and
  :func:`~drivestack.eval.detection.run.evaluate_dataset`, which runs a detector over a
  dataset and scores it (``drivestack eval detection``).
- :mod:`~drivestack.eval.tracking`: KITTI 3D-MOT as AB3DMOT evaluates it (sAMOTA, AMOTA,
  AMOTP, CLEAR-MOT) and HOTA (``drivestack eval tracking``).
- :mod:`~drivestack.eval.driving`: closed-loop driving: the nuPlan score, Euro NCAP style
  pass/fail, comfort.
- :mod:`~drivestack.eval.detection2d`: 2D image-box AP (``drivestack eval detection2d``).
"""
