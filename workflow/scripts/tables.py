# The job of a rule that runs `dislab tables`: the rule's input, output, params, threads, resources and log, as
# Snakemake hands them to every script (the `snakemake` object), go to dislab.cli.cmd_tables.
from dislab.cli import run_rule

run_rule("tables", snakemake)  # noqa: F821 (Snakemake defines it)
