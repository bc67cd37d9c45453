"""How close a run comes to the thesis: its numbers beside the thesis' own, and Chapter 5's claims checked.

- ``setup``: what in the run's setup differs from the thesis' (config/thesis.yaml, the official data), by what it
  affects; the two readings of the thesis' training length; whether the run is a smoke run.
- ``stats``: the standard errors every verdict uses.
- ``numbers``: every number Chapter 5 prints that a run regenerates, beside the run's, with a verdict.
- ``claims``: Chapter 5's findings and sanity checks, PASS, FAIL or NOT RUN with the evidence.
- ``report``: the page (fidelity.md, and fidelity.html for the report).
- ``run``: the rule's entry, write_fidelity.

This package's ``__init__`` imports nothing: the Snakefile reads ``setup.smoke_reasons`` on every start-up.
"""
