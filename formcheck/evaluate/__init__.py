"""Accuracy against hand labels: rep counts, rep bottoms, views and faults.
May import the pipeline; not the other front ends."""
