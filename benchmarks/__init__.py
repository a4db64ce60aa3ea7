"""Benchmarks: `python -m benchmarks <name>` runs benchmarks/<name>.py and prints a table of figures."""
