"""Everything a run hands the user: the report model, the per-frame table,
the writers, and render/ for pictures (annotated video, key frames, plots,
HTML). May import the pipeline below it; never a front end."""
