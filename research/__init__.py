"""Finished experiments: the scripts as they were run and their records (``research/results``).

``research/README.md`` says what each one asked, what was decided and which figure decided it.
The scripts are kept to be read; they are not maintained against the package as it changes.
"""
