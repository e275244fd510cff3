"""Camera perception: KITTI camera calibrations and images, the 2D detection stage
(``reset()`` / ``step(CameraImage) -> Detections2D``) with a file replay source
(:mod:`~drivestack.perception.camera.replay`) and a torchvision FCOS detector
(:mod:`~drivestack.perception.camera.detector`, trained by :mod:`~drivestack.perception.camera.training`).

Torch is imported only by the detector and training modules, on first use.
"""
