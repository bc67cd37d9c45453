# The job of a rule that runs `dislab fidelity`: the rule's input, output, params, threads, resources and log, as
# Snakemake hands them to every script (the `snakemake` object), go to dislab.cli.cmd_fidelity.
from dislab.cli import run_rule

run_rule("fidelity", snakemake)  # noqa: F821 (Snakemake defines it)
