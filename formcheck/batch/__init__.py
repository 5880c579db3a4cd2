"""`formcheck batch` as a library: plan a folder of clips, analyse each on an
engine (a local process pool or a Dask cluster), commit results atomically.
May import the pipeline and outputs; not the other front ends."""
