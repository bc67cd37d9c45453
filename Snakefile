# dislab: regenerate the thesis' tables and figures, end to end.
#   snakemake --cores all                        # default config (laptop scale, real dSprites)
#   snakemake --profile profiles/slurm --configfile config/thesis.yaml
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")

sys.path.insert(0, workflow.basedir)
from dislab.config import config_problems


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


try:
    validate(config, "workflow/schemas/config.schema.yaml")
except WorkflowError as err:
    problems = config_problems(config, workflow.source_path("workflow/schemas/config.schema.yaml"))
    raise WorkflowError(
        "The config is invalid; nothing was run. Fix these keys (see workflow/schemas/config.schema.yaml "
        "and the README's config section):\n  " + "\n  ".join(problems or [str(err)])
    ) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/qualitative.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        rules.figure_dataset.output,
        cell_files("model.pt"),
        TRAINING_FIGURES,
        TABLES.values(),
        expand("results/figures/{name}.png", name=EVALUATION_FIGURES),
        expand("results/figures/{name}.png", name=QUALITATIVE_FIGURES),
        rules.results_index.output,
    default_target: True
