"""`lead-parity`: the command line on top of the Dagster definitions and the readers."""
