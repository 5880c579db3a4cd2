"""Live coaching: camera capture, a causal rep counter and scorer, one short
cue at a time, then the same reports as `analyze`. May import the pipeline,
the pose layer and outputs; not the other front ends."""
