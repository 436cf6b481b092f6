"""The harness's scenarios (bench/run.py): each is a function of a
``bench.workload.Bench`` that returns its figures (``bench.report.Figure``)."""
