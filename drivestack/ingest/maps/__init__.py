"""Road-map readers and builders: synthetic roads from code, CommonRoad XML, Lanelet2 OSM."""
