"""drivestack.perception: sensor frames in, 3D boxes out (``lidar``, ``camera``, ``fusion``)."""
