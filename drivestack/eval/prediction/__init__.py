"""Motion-forecasting evaluation on recorded traffic (``drivestack eval prediction``).

Ground-truth trajectories of a source (:mod:`.sources`, one structure: :mod:`.trajectories`)
become forecasting cases (:mod:`.cases`: an agent's observed past and true future), the
models of :mod:`.models` forecast each case from its past only, and :mod:`.metrics` scores
them as Argoverse 2 does (ADE, FDE, miss at 2 m, minADE_K / minFDE_K / brier-minFDE_K);
:mod:`.run` groups the scores by traffic kind, model, class group and motion.

By default the pasts are ground truth (labelled boxes): the figures are what the models can
do with perfect tracks. :mod:`.tracked` builds the cases from the tracker's online output
instead (``--pasts tracks``), each track matched to a labelled object whose future is the
truth, and counts the false positives and missed objects.
"""
