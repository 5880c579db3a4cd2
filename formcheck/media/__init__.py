"""Files and media: video decoding with the container's timestamps, the model
file, atomic writes, native libraries' log noise. The bottom floor: imports
only formcheck.errors and formcheck.log."""
