"""Benchmarks and evaluations, each run from the repository root as `python -m bench.NAME`."""
