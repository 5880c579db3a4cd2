"""The numeric core: a PoseTrack in, per-frame signals, reps and per-rep
metrics with their evidence out. Pure numpy and SciPy: no OpenCV, no pose
model, no files. May import formcheck.pose.track (the data it reads) and errors."""
