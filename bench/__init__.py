"""Kanbot's benchmarks: each hot path next to its floor, in the same run (see docs/performance.md)."""
