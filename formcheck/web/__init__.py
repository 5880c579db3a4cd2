"""The local web page: uploads, a job queue with worker processes, the
history and trends. May import the pipeline, outputs and batch's per-clip
analysis; imports its web framework (an optional extra) only when serving."""
