"""Benchmarks of Taqsit at scale (`make bench`): a data generator loading with COPY, and the benchmarks that
measure the daily job, payments over HTTP, the dashboard, the collections list and the plan preview, each
against a baseline measured in the same run (docs/performance.md)."""
