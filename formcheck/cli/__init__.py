"""The command line: argument parsing, shared options and one module per
command. The top floor: it may import everything, nothing imports it."""
