"""Camera-LiDAR fusion: projected-box association of 3D boxes with 2D detections
(:mod:`~drivestack.perception.fusion.association`), fused tracking
(:mod:`~drivestack.perception.fusion.fused_tracking`) and point painting
(:mod:`~drivestack.perception.fusion.painting`)."""
