"""Camera-LiDAR fused tracking in the spirit of DeepFusionMOT (Wang et al., RA-L 2022).

:class:`FusedTracker` wraps the LiDAR tracker (:class:`drivestack.tracking.tracker.Tracker`) and
is a drop-in stage for it (``reset()``, ``step(Boxes3D, world_from_frame) -> Tracks``,
``last_detection_index``, ``cfg``); the camera detections of each frame come from a
``camera_source(timestamp_ns)`` callable. Per frame:

1. **Fuse detections.** 3D detections are associated with each camera's 2D detections by
   projected-box IoU (:func:`associate_with_cameras`, class-aware; a 2D detection labelled
   UNKNOWN, i.e. built without labels, confirms a box of any class). A 3D detection with a
   camera match is *confirmed* (its score gets ``confirmed_score_bonus``); one inside a
   camera's view without a match gets ``unconfirmed_score_penalty`` (a LiDAR false alarm the
   camera should have seen); 3D detections outside every camera, or of a class the cameras do
   not detect (``CameraFrame.detected_labels``), are left as they are, and so are those seen
   only by a camera that reported no detection at all that frame (``CameraFrame.n_reported``:
   a camera that saw nothing - a dropped frame, a missing or empty file - is no evidence
   against a box; counted in ``FusedTracker.silent_camera_frames``). A camera whose
   detections are stamped more than ``max_time_offset_s`` from the 3D detections is left
   out of the frame (counted in ``FusedTracker.stale_camera_frames``). The re-scored
   detections are ``last_detection_score``: offline whole-track rules read them, so the
   camera's verdict also decides which tracks a result file keeps.
2. **Track** with the LiDAR tracker on the re-scored detections.
   **Image-box identity continuity.** Two neighbouring tracks (``identity_swap_radius_m``)
   both updated with camera-confirmed detections exchange identities back when each one's new
   image box continues the other's previous one
   (:func:`~drivestack.perception.fusion.identity.continuity_swaps`): the LiDAR association
   handed their detections to each other.
3. **Camera keeps tracks alive.** Confirmed live tracks that no 3D detection updated are
   projected into the cameras and associated with the 2D detections not used in step 1; a
   matched track's ``time_since_update`` is reset (it does not die) for at most
   ``max_camera_only_frames`` frames in a row, and it is output this frame with its predicted
   box, scored as the tracker scores a coasting track (:func:`_camera_kept_score`: the hits
   bonus and score floor of its lifecycle) less ``camera_coast_score_penalty`` per
   camera-only frame. Not for a track within ``coast_isolation_m`` of a track a 3D detection updated this
   frame: the free 2D detection is then as likely that object's neighbour, and the track kept
   alive a duplicate that would later take the object's detections.
4. **Camera confirms births.** A track born this frame from a camera-confirmed detection gets
   ``hits = min_hits`` (confirmed at once; its score sum grows with them, so the tracker's
   mean-score test still sees its score) and is output this frame, unless it lies within
   ``birth_isolation_m`` of an older track (then it is more likely a duplicate of that object,
   and confirming it would cost identity switches).

Steps 2-4 write the tracker's per-class state (``ClassTrackState`` is the documented,
mutable state object); the hooks the tracker would need to do this itself are described in
:data:`TRACKER_HOOKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from drivestack.config.strict import ConfigValueError, check_config_numbers
from drivestack.core.frames import EGO, LIDAR
from drivestack.core.transforms import SE3
from drivestack.perception.fusion.association import (
    CameraMatches,
    associate_with_cameras,
    project_to_image,
)
from drivestack.perception.fusion.identity import continuity_swaps
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.config import (
    ClassTrackerConfig,
    LifecycleConfig,
    OfflineTrackScorerConfig,
    TrackerConfig,
)
from drivestack.tracking.tracker import Tracker

TRACKER_HOOKS = """\
ClassTracker.step(boxes, scores, timestamp_ns, next_id, *, birth_hits=None, camera_match=None):
  birth_hits: (D,) int64 or None - initial `hits` of a track born from detection d (min_hits for
    camera-confirmed detections, 1 otherwise), so confirmed births are output at once.
  camera_match: callable(track_boxes (T, 7) in the tracking frame, track_labels) -> rows (K,)
    called after the 3D update with the predicted boxes of tracks not updated this frame; the
    tracker sets time_since_update[rows] = 0 without a Kalman update or a hit, counts a
    per-track camera_only_streak (reset by a 3D update) and applies max_camera_only_frames,
    then outputs those tracks with their predicted boxes.
"""


def _camera_kept_score(
    last_score: float, hits: int, run: int, fusion: FusionConfig, life: LifecycleConfig
) -> float:
    """The output score of a track kept alive by the camera for ``run`` frames in a row: its
    last detection score plus the lifecycle's hits bonus (as the tracker's own rows), less
    ``camera_coast_score_penalty`` per camera-only frame, not below the lifecycle's
    ``min_score_floor``."""
    score = (
        last_score
        + life.hits_score_bonus * min(hits, life.hits_score_cap)
        - fusion.camera_coast_score_penalty * run
    )
    return score if life.min_score_floor is None else max(score, life.min_score_floor)


def _same_boxes(candidates7: np.ndarray, box7: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Rows of the ``(D, 7)`` candidates equal to ``box7`` up to rounding (yaw modulo 2 pi):
    finds the detection a track was updated with from its ``last_box``, whatever arithmetic
    the tracker used to move the detections into its frame."""
    d = np.abs(candidates7 - box7[None, :])
    d[:, 6] = np.abs(np.angle(np.exp(1j * (candidates7[:, 6] - box7[6]))))
    return np.flatnonzero(np.all(d <= tol, axis=1))


@dataclass(frozen=True)
class FusedOfflineRules:
    """A class's offline result-file rules in fused mode (replacing the tracker config's).

    Attributes:
        min_track_score: ``offline_min_track_score`` (``None`` keeps every track).
        track_scorer: apply the tracker config's learned ``offline_track_scorer``; ``False``
            thresholds the tracks' mean fused scores instead.
    """

    min_track_score: float | None = None
    track_scorer: bool = False

    def __post_init__(self) -> None:
        if self.min_track_score is not None:
            check_config_numbers(self, "min_track_score")


@dataclass(frozen=True)
class FusionConfig:
    """Parameters of :class:`FusedTracker` (see the module docstring).

    Attributes:
        detection_iou: 3D-detection-to-2D-detection IoU to confirm a detection.
        track_iou: predicted-track-to-2D-detection IoU for camera-only evidence.
        confirmed_score_bonus: added to the score of camera-confirmed 3D detections.
        unconfirmed_score_penalty: subtracted from visible 3D detections without a 2D match.
        max_camera_only_frames: frames in a row a track may live on camera evidence alone.
        camera_births_confirmed: give tracks born from confirmed detections ``min_hits``.
        birth_isolation_m: ... unless an older live track's BEV centre is this close (a
            duplicate of a known object, not a new one); 0 disables the check.
        camera_coast_score_penalty: subtracted per camera-only frame from an output score.
        coast_isolation_m: a coasting track is not kept alive by the camera when its
            predicted BEV centre is this close to a track that a 3D detection updated (or
            started) this frame: the 2D detection is then as likely that object's neighbour,
            and the kept track a duplicate that later takes the object's detections (an
            identity switch); 0 disables the check.
        identity_swap_radius_m: two tracks closer than this (BEV centres) that were both
            updated with camera-confirmed detections exchange identities when each one's
            new image box continues the other's previous image box (see
            :func:`~drivestack.perception.fusion.identity.continuity_swaps`); 0 disables.
        identity_swap_margin: summed-IoU gain an exchange needs.
        identity_max_box_iou: ... and the IoU of the two tracks' previous image boxes must be
            below this (overlapping boxes cannot tell the two apart).
        identity_max_gap_frames: a track's previous image box counts for this many frames.
        max_time_offset_s: a camera whose 2D detections are stamped further than this from
            the 3D detections is not used that frame (counted per camera in
            :attr:`FusedTracker.stale_camera_frames`); ``None`` compares no stamps. The KITTI
            RRC replay stamps the camera frames with the LiDAR time (offset 0).
        fused_offline: per class (any case; stored under the lower-case name), the offline result-file rules that replace
            the tracker config's in fused mode (:class:`FusedOfflineRules`): the fused scores
            (bonus and penalty applied) are not the scores a learned track scorer or a
            threshold was fitted on.
    """

    detection_iou: float = 0.3
    track_iou: float = 0.3
    confirmed_score_bonus: float = 1.0
    unconfirmed_score_penalty: float = 1.0
    max_camera_only_frames: int = 3
    camera_births_confirmed: bool = True
    birth_isolation_m: float = 4.0
    camera_coast_score_penalty: float = 0.5
    coast_isolation_m: float = 1.5
    identity_swap_radius_m: float = 2.0
    identity_swap_margin: float = 0.2
    identity_max_box_iou: float = 0.3
    identity_max_gap_frames: int = 3
    max_time_offset_s: float | None = 0.05
    fused_offline: dict[str, FusedOfflineRules] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_config_numbers(
            self, "detection_iou", "track_iou", "identity_max_box_iou", at_least=0.0, at_most=1.0
        )
        check_config_numbers(
            self,
            "birth_isolation_m",
            "coast_isolation_m",
            "identity_swap_radius_m",
            at_least=0.0,
        )
        check_config_numbers(
            self, "max_camera_only_frames", "identity_max_gap_frames", integer=True, at_least=0
        )
        check_config_numbers(
            self,
            "confirmed_score_bonus",
            "unconfirmed_score_penalty",
            "camera_coast_score_penalty",
            "identity_swap_margin",
        )
        if self.max_time_offset_s is not None:
            check_config_numbers(self, "max_time_offset_s", at_least=0.0)
        canonical: dict[str, FusedOfflineRules] = {}
        given: dict[str, str] = {}
        for name, rules in self.fused_offline.items():
            key = f"fused_offline.{name}"
            try:
                cls = ObjectClass.from_name(str(name)).name.lower()
            except ValueError as exc:  # naming the known classes
                raise ConfigValueError(str(exc), key=key) from None
            if not isinstance(rules, FusedOfflineRules):
                raise TypeError(
                    f"FusionConfig.{key} must be a FusedOfflineRules, got {type(rules).__name__}"
                )
            if cls in canonical:
                raise ConfigValueError(f"class {cls} given twice (also as {given[cls]!r})", key=key)
            canonical[cls], given[cls] = rules, name
        # the lower-case name offline_rules() looks up: 'Pedestrian:' applies as 'pedestrian:'
        object.__setattr__(self, "fused_offline", canonical)

    def offline_rules(self, class_cfg: ClassTrackerConfig, cls: str) -> ClassTrackerConfig:
        """``class_cfg`` with class ``cls``'s :attr:`fused_offline` rules in place (unchanged
        for a class without any)."""
        rules = self.fused_offline.get(cls.lower())
        if rules is None:
            return class_cfg
        scorer = class_cfg.offline_track_scorer if rules.track_scorer else None
        return replace(
            class_cfg,
            offline_min_track_score=rules.min_track_score,
            offline_track_scorer=scorer or OfflineTrackScorerConfig(),
        )


@dataclass(frozen=True)
class CameraFrame:
    """The camera evidence at one time: per camera, its 2D detections and calibration.

    ``detected_labels``: the :class:`ObjectClass` ids the camera detectors report (``None``:
    every class). A 3D detection of another class is not penalised for having no 2D match
    (the camera could not have confirmed it).

    ``n_reported``: per camera, how many detections its detector reported this frame over
    every class it detects, before ``detections`` was cut to the classes tracked here
    (``None``, or a camera missing from it: the number in ``detections``). A camera that
    reported none gives no negative evidence this frame: its view does not penalise
    unconfirmed 3D detections (it saw nothing, which says nothing against a box).
    """

    detections: Mapping[str, Detections2D]
    calibrations: Mapping[str, CameraCalibration]
    detected_labels: frozenset[int] | None = None
    n_reported: Mapping[str, int] | None = None

    def reported(self, name: str) -> int:
        """Detections camera ``name`` reported this frame (see :attr:`n_reported`)."""
        if self.n_reported is not None and name in self.n_reported:
            return int(self.n_reported[name])
        return len(self.detections[name])


@dataclass
class _FusionState:
    camera_only_streak: dict[int, int] = field(default_factory=dict)  # track id -> frames
    # track id -> (camera, (4,) image box of its last camera-confirmed detection, frame)
    image_box: dict[int, tuple[str, np.ndarray, int]] = field(default_factory=dict)
    frame: int = 0


class FusedTracker:
    """LiDAR tracker + camera evidence (see the module docstring).

    Args:
        tracker: the LiDAR tracker (its state is shared, not copied).
        cfg: fusion parameters.
        camera_source: ``timestamp_ns -> CameraFrame`` of that frame; 3D boxes are in the ego
            frame of the calibrations (for KITTI: the LiDAR frame).
        ego_frame: the frame name of the calibrations' ``camera_from_ego`` source; ``None``
            takes ``"ego"`` or ``"lidar"`` (as :func:`~drivestack.perception.fusion.painting.
            paint_points`). :meth:`step` refuses detections in another frame: sent through
            ``camera_from_ego`` they would land anywhere in the image, lose their camera
            confirmation and be marked down, without a word.
    """

    def __init__(
        self,
        tracker: Tracker,
        cfg: FusionConfig,
        camera_source: Callable[[int], CameraFrame],
        ego_frame: str | None = None,
    ) -> None:
        self.tracker = tracker
        self.ego_frames = (EGO, LIDAR) if ego_frame is None else (ego_frame,)
        self.fusion = cfg
        self.camera_source = camera_source
        self.state = _FusionState()
        self.last_detection_index = np.zeros(0, dtype=np.int64)
        self.last_confirmed = np.zeros(0, dtype=bool)
        #: ``(D,)`` scores of the last step's detections as the LiDAR tracker received them
        #: (step 1's camera bonus / penalty applied): the per-row detection scores that
        #: offline whole-track rules must see (:mod:`drivestack.tracking.offline`)
        self.last_detection_score = np.zeros(0)
        #: camera name -> frames its detections were not used: stamped more than
        #: ``max_time_offset_s`` from the 3D detections (since construction or :meth:`reset`)
        self.stale_camera_frames: dict[str, int] = {}
        #: 3D detections in the view of a camera that reported this frame and detects their
        #: class (``in_view``), and how many of those a camera detection confirmed
        #: (``confirmed``), since construction or :meth:`reset`: a camera feed out of step
        #: with the LiDAR (another sequence's, shifted, reversed) confirms far fewer
        self.camera_agreement: dict[str, int] = {"in_view": 0, "confirmed": 0}
        #: camera name -> frames it reported no detection at all (:attr:`CameraFrame.n_reported`),
        #: so its view penalised nothing (since construction or :meth:`reset`)
        self.silent_camera_frames: dict[str, int] = {}

    @property
    def cfg(self) -> TrackerConfig:
        """The wrapped tracker's config (a drop-in for :class:`Tracker`)."""
        return self.tracker.cfg

    @property
    def velocities_over_ground(self) -> bool:
        """The wrapped tracker's (:attr:`Tracker.velocities_over_ground`)."""
        return self.tracker.velocities_over_ground

    def reset(self) -> None:
        self.tracker.reset()
        self.state = _FusionState()
        self.last_detection_index = np.zeros(0, dtype=np.int64)
        self.last_confirmed = np.zeros(0, dtype=bool)
        self.last_detection_score = np.zeros(0)
        self.stale_camera_frames = {}
        self.silent_camera_frames = {}
        self.camera_agreement = {"in_view": 0, "confirmed": 0}

    def step(
        self,
        detections: Boxes3D,
        world_from_frame: SE3 | None = None,
        *,
        frame_fixed: bool | None = None,
    ) -> Tracks:
        """Fuse this frame's camera detections into ``detections``, then track them (the
        inner :class:`~drivestack.tracking.tracker.Tracker`'s ``step``, ``world_from_frame``
        and ``frame_fixed`` as it takes them)."""
        if detections.frame not in self.ego_frames:
            raise ValueError(
                f"FusedTracker.step: the detections are in frame {detections.frame!r}, the "
                f"camera calibrations map {' or '.join(repr(f) for f in self.ego_frames)} "
                "(move them there first, or pass FusedTracker(ego_frame=...))"
            )
        f = self.fusion
        camera = self._camera_frame(detections.timestamp_ns)
        arr = detections.to_array7()
        # 1. fuse detections
        m = associate_with_cameras(
            arr, detections.label, camera.detections, camera.calibrations, f.detection_iou
        )
        confirmed = m.matched_boxes(len(detections))
        silent = [name for name in camera.detections if camera.reported(name) == 0]
        for name in silent:
            self.silent_camera_frames[name] = self.silent_camera_frames.get(name, 0) + 1
        visible = self._visible(arr, camera, exclude=silent)
        if camera.detected_labels is not None:
            visible &= np.isin(detections.label, list(camera.detected_labels))
        score = detections.score + np.where(
            confirmed, f.confirmed_score_bonus, np.where(visible, -f.unconfirmed_score_penalty, 0.0)
        )
        self.last_confirmed = confirmed
        self.last_detection_score = score
        self.camera_agreement["in_view"] += int(np.count_nonzero(visible))
        self.camera_agreement["confirmed"] += int(np.count_nonzero(visible & confirmed))
        # 2. track
        tracks = self.tracker.step(
            replace(detections, score=score), world_from_frame, frame_fixed=frame_fixed
        )
        det_index = self.tracker.last_detection_index
        tracks = self._restore_identities(
            self._in_tracking_frame(detections, world_from_frame),
            detections.label,
            m,
            camera,
            tracks,
        )
        # 3./4. camera evidence on the tracker state
        free_2d = {
            name: d.select(~m.matched_detections(name, len(d)))
            for name, d in camera.detections.items()
        }
        extra = self._apply_camera_evidence(
            detections,
            world_from_frame,
            confirmed,
            tracks,
            CameraFrame(free_2d, camera.calibrations, camera.detected_labels, camera.n_reported),
        )
        if extra is None:
            self.last_detection_index = det_index
            return tracks
        extra_tracks, extra_det = extra
        self.last_detection_index = np.concatenate([det_index, extra_det])
        return Tracks(
            track_id=np.concatenate([tracks.track_id, extra_tracks.track_id]),
            boxes=Boxes3D.concatenate([tracks.boxes, extra_tracks.boxes]),
            age=np.concatenate([tracks.age, extra_tracks.age]),
            hits=np.concatenate([tracks.hits, extra_tracks.hits]),
            time_since_update=np.concatenate(
                [tracks.time_since_update, extra_tracks.time_since_update]
            ),
        )

    def _camera_frame(self, timestamp_ns: int) -> CameraFrame:
        """The camera source's frame at ``timestamp_ns``, type-checked, without the cameras
        whose detections are stamped more than ``max_time_offset_s`` away (counted in
        :attr:`stale_camera_frames`).

        Raises:
            TypeError: the source did not return a :class:`CameraFrame` of
                :class:`Detections2D` (naming the source and the timestamp).
        """
        camera = self.camera_source(timestamp_ns)
        if not isinstance(camera, CameraFrame):
            raise TypeError(
                f"camera_source {self.camera_source!r} at timestamp_ns {timestamp_ns} returned "
                f"{type(camera).__name__}, expected a CameraFrame"
            )
        for name, dets in camera.detections.items():
            if not isinstance(dets, Detections2D):
                raise TypeError(
                    f"camera_source {self.camera_source!r} at timestamp_ns {timestamp_ns}: "
                    f"camera {name!r} has {type(dets).__name__}, expected Detections2D"
                )
        limit = self.fusion.max_time_offset_s
        if limit is None:
            return camera
        stale = [
            name
            for name, dets in camera.detections.items()
            if abs(int(dets.timestamp_ns) - int(timestamp_ns)) > limit * 1e9
        ]
        if not stale:
            return camera
        for name in stale:
            self.stale_camera_frames[name] = self.stale_camera_frames.get(name, 0) + 1
        kept = {n: d for n, d in camera.detections.items() if n not in stale}
        return CameraFrame(kept, camera.calibrations, camera.detected_labels, camera.n_reported)

    @staticmethod
    def _visible(arr: np.ndarray, camera: CameraFrame, exclude: Sequence[str] = ()) -> np.ndarray:
        """``(D,)`` bool: the ``(D, 7)`` boxes inside the view of a camera of ``camera`` not
        in ``exclude``."""
        visible = np.zeros(arr.shape[0], dtype=bool)
        for name in camera.detections:
            if name not in exclude:
                visible |= project_to_image(arr, camera.calibrations[name])[1]
        return visible

    def _in_tracking_frame(self, detections: Boxes3D, world_from_frame: SE3 | None) -> np.ndarray:
        """``(D, 7)`` detections in the tracker's frame (the world frame with ego-motion
        compensation), as the tracker stores them in ``last_box`` up to rounding (compare
        with :func:`_same_boxes`)."""
        if self.tracker.cfg.ego_motion_compensation and world_from_frame is not None:
            return detections.transformed(world_from_frame, "tracking_world").to_array7()
        return detections.to_array7()

    def _restore_identities(
        self,
        det_tracking: np.ndarray,
        labels: np.ndarray,
        matches: CameraMatches,
        camera: CameraFrame,
        tracks: Tracks,
    ) -> Tracks:
        """Undo LiDAR association swaps between neighbouring tracks by image-box continuity
        (:func:`continuity_swaps`), then remember each updated track's image box.

        An exchange swaps the identity fields of the two state rows (``track_id``, ``age``,
        ``hits``, and ``score_sum`` less this frame's score, which stays with its row); the
        Kalman state stays with the detection it was updated with. Returns ``tracks`` with the exchanged identities.
        """
        f, st = self.fusion, self.state
        n_det = det_tracking.shape[0]
        det_box = np.full((n_det, 4), np.nan)
        det_cam = np.full(n_det, "", dtype=object)
        for k in range(matches.box_index.shape[0]):
            name = str(matches.camera[k])
            d = int(matches.box_index[k])
            det_box[d] = camera.detections[name].box_xyxy_px[matches.detection_index[k]]
            det_cam[d] = name
        renamed: dict[int, int] = {}
        live: set[int] = set()
        for label, trk in self.tracker.class_trackers.items():
            s = trk.state
            n = s.track_id.shape[0]
            live.update(int(t) for t in s.track_id)
            sel = np.flatnonzero(labels == label)
            row_det = np.full(n, -1, dtype=np.int64)
            for r in np.flatnonzero(s.time_since_update == 0).tolist():
                same = _same_boxes(det_tracking[sel], s.last_box[r])
                if same.size:
                    row_det[r] = sel[same[0]]
            if f.identity_swap_radius_m > 0 and n > 1:
                centres = trk.model.boxes(s.x)[:, :2]
                for name in camera.detections:
                    prev = np.full((n, 4), np.nan)
                    cur = np.full((n, 4), np.nan)
                    for r in range(n):
                        rec = st.image_box.get(int(s.track_id[r]))
                        if (
                            rec is not None
                            and rec[0] == name
                            and st.frame - rec[2] <= f.identity_max_gap_frames
                        ):
                            prev[r] = rec[1]
                        d = int(row_det[r])
                        if d >= 0 and det_cam[d] == name:
                            cur[r] = det_box[d]
                    pairs = continuity_swaps(
                        prev,
                        cur,
                        centres,
                        f.identity_swap_radius_m,
                        f.identity_swap_margin,
                        f.identity_max_box_iou,
                    )
                    for a, b in pairs:
                        ta, tb = int(s.track_id[a]), int(s.track_id[b])
                        for attr in ("track_id", "age", "hits"):
                            values = getattr(s, attr)
                            values[[a, b]] = values[[b, a]]
                        # each identity keeps its own history of scores plus this frame's
                        # score, which stays with the detection its row now holds
                        history = s.score_sum[[b, a]] - s.last_score[[b, a]]
                        s.score_sum[[a, b]] = history + s.last_score[[a, b]]
                        renamed[ta], renamed[tb] = tb, ta
            for r in np.flatnonzero(row_det >= 0).tolist():
                d = int(row_det[r])
                if det_cam[d]:
                    st.image_box[int(s.track_id[r])] = (str(det_cam[d]), det_box[d], st.frame)
        for tid in [t for t in st.image_box if t not in live]:
            del st.image_box[tid]
        st.frame += 1
        if not renamed:
            return tracks
        row_of = {
            int(t): (trk.state, r)
            for trk in self.tracker.class_trackers.values()
            for r, t in enumerate(trk.state.track_id)
        }
        new_id = np.array([renamed.get(int(t), int(t)) for t in tracks.track_id], dtype=np.int64)
        age = tracks.age.copy()
        hits = tracks.hits.copy()
        for k, t in enumerate(new_id.tolist()):
            if t in row_of and int(tracks.track_id[k]) in renamed:
                state, r = row_of[t]
                age[k], hits[k] = int(state.age[r]), int(state.hits[r])
        return replace(tracks, track_id=new_id, age=age, hits=hits)

    @staticmethod
    def _near_tracks(query7: np.ndarray, others7: np.ndarray, radius_m: float) -> np.ndarray:
        """``(Q,)`` bool: the BEV centre of each of the ``(Q, 7)`` boxes lies closer than
        ``radius_m`` to the centre of one of the ``(O, 7)`` boxes (all False when
        ``radius_m <= 0`` or either set is empty)."""
        if query7.shape[0] == 0 or others7.shape[0] == 0 or radius_m <= 0:
            return np.zeros(query7.shape[0], dtype=bool)
        from drivestack.kernels import center_distances

        dist = np.asarray(center_distances(query7[:, :2], others7[:, :2]))
        return np.min(dist, axis=1) < radius_m

    def _near_other_tracks(
        self, boxes7: np.ndarray, older: np.ndarray, born: np.ndarray
    ) -> np.ndarray:
        """``(B,)`` bool: a newborn track lies within ``birth_isolation_m`` (BEV centre
        distance) of an older live track (likely a duplicate of it, not a new object)."""
        return self._near_tracks(boxes7[born], boxes7[older], self.fusion.birth_isolation_m)

    def _apply_camera_evidence(
        self,
        detections: Boxes3D,
        world_from_frame: SE3 | None,
        confirmed: np.ndarray,
        tracks: Tracks,
        free: CameraFrame,
    ) -> tuple[Tracks, np.ndarray] | None:
        f = self.fusion
        compensated = self.tracker.cfg.ego_motion_compensation and world_from_frame is not None
        frame_from_tracking = (
            world_from_frame.inverse() if compensated and world_from_frame else None
        )
        det_tracking = self._in_tracking_frame(detections, world_from_frame)
        in_output = set(tracks.track_id.tolist())
        streak = self.state.camera_only_streak
        rows_out: list[tuple[int, np.ndarray, float, int, int, int, int]] = []
        for label, trk in self.tracker.class_trackers.items():
            s, life = trk.state, trk.cfg.lifecycle
            n = s.track_id.shape[0]
            if n == 0:
                continue
            for tid in s.track_id[s.time_since_update == 0].tolist():
                streak.pop(int(tid), None)  # a 3D update ends a camera-only streak
            # 4. births from camera-confirmed detections
            if f.camera_births_confirmed:
                born = np.flatnonzero(s.age == 1)
                sel = np.flatnonzero((detections.label == label) & confirmed)
                crowded = self._near_other_tracks(trk.model.boxes(s.x), s.age > 1, born)
                for r, near in zip(born, crowded, strict=True):
                    same = _same_boxes(det_tracking[sel], s.last_box[r])
                    if same.size and not near:
                        # confirmed as if matched min_hits times at its score: the mean-score
                        # test (score_sum >= min_output_score * hits) keeps seeing its mean
                        raised = max(int(s.hits[r]), life.min_hits) - int(s.hits[r])
                        s.hits[r] += raised
                        s.score_sum[r] += raised * s.last_score[r]
                        if int(s.track_id[r]) not in in_output:
                            rows_out.append(
                                (
                                    label,
                                    s.last_box[r],
                                    float(s.last_score[r]),
                                    int(s.track_id[r]),
                                    int(s.age[r]),
                                    int(s.hits[r]),
                                    int(sel[same[0]]),
                                )
                            )
            # 3. camera keeps confirmed, not updated tracks alive
            coasting = np.flatnonzero((s.time_since_update > 0) & (s.hits >= life.min_hits))
            if coasting.size == 0:
                continue
            all_boxes = trk.model.boxes(s.x)
            if frame_from_tracking is not None:
                all_boxes = (
                    Boxes3D.from_array7(all_boxes, "tracking_world")
                    .transformed(frame_from_tracking, detections.frame)
                    .to_array7()
                )
            updated = all_boxes[s.time_since_update == 0]
            near = self._near_tracks(all_boxes[coasting], updated, f.coast_isolation_m)
            coasting = coasting[~near]
            if coasting.size == 0:
                continue
            pred_frame = all_boxes[coasting]
            m = associate_with_cameras(
                pred_frame,
                np.full(coasting.size, label),
                free.detections,
                free.calibrations,
                f.track_iou,
            )
            for k in m.box_index.tolist():
                row = int(coasting[k])
                tid = int(s.track_id[row])
                run = streak.get(tid, 0) + 1
                if run > f.max_camera_only_frames:
                    continue
                streak[tid] = run
                s.time_since_update[row] = 0
                if tid not in in_output:
                    score = _camera_kept_score(
                        float(s.last_score[row]), int(s.hits[row]), run, f, life
                    )
                    rows_out.append(
                        (label, pred_frame[k], score, tid, int(s.age[row]), int(s.hits[row]), -1)
                    )
        live = {int(t) for trk in self.tracker.class_trackers.values() for t in trk.state.track_id}
        for tid in [t for t in streak if t not in live]:
            del streak[tid]  # dead tracks
        if not rows_out:
            return None
        boxes = np.stack([r[1] for r in rows_out])
        if frame_from_tracking is not None:  # births' last_box are in the tracking frame
            born_rows = np.array([r[6] >= 0 for r in rows_out])
            if born_rows.any():
                boxes[born_rows] = (
                    Boxes3D.from_array7(boxes[born_rows], "tracking_world")
                    .transformed(frame_from_tracking, detections.frame)
                    .to_array7()
                )
        extra = Tracks(
            track_id=np.array([r[3] for r in rows_out], dtype=np.int64),
            boxes=Boxes3D.from_array7(
                boxes,
                detections.frame,
                detections.timestamp_ns,
                score=np.array([r[2] for r in rows_out]),
                label=np.array([r[0] for r in rows_out], dtype=np.int64),
            ),
            age=np.array([r[4] for r in rows_out], dtype=np.int64),
            hits=np.array([r[5] for r in rows_out], dtype=np.int64),
            time_since_update=np.zeros(len(rows_out), dtype=np.int64),
        )
        return extra, np.array([r[6] for r in rows_out], dtype=np.int64)
