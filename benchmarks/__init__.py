"""Rerunnable measurements of the project, one script a module.

Run one from the repository root as ``python -m benchmarks.NAME`` (``--help`` lists its
arguments); it prints a table and writes ``benchmarks/results/NAME.json``. The project is
imported as the installed package and helpers as ``benchmarks.machine`` and the like: no
script edits ``sys.path``. ``python -m benchmarks.summary`` prints the table of
``benchmarks/README.md`` from the result files. Finished experiments live in ``research/``.
"""
