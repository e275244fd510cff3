"""3D detection metrics: the KITTI object, nuScenes and Argoverse 2 protocols."""
