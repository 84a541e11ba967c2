"""chinwag speed benchmark: the speed table of the performance issue, in one command.

Run it from the repository root with ``python -m bench.chinwag_bench`` (see ``bench/README.md``).
Every chinwag figure is a ratio to a baseline server measured in the same run, interleaved round
by round, because absolute req/s on a shared machine drift between runs and ratios do not.
"""
