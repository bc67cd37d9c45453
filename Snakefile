# dislab: regenerate the thesis' tables and figures, end to end.
#   snakemake --cores all                                        # default config (laptop scale, real dSprites)
#   snakemake --profile slurm --configfile config/thesis.yaml    # a GPU cluster (README: the cluster section)
# profiles/default/ (this workflow's own settings) is added to every run by Snakemake itself.
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")

# This checkout: the Snakefile's own directory, also when another workflow uses this one as a module (where
# workflow.basedir is that workflow's directory).
DISLAB_DIR = workflow.current_basedir.get_path_or_uri(secret_free=True)
sys.path.insert(0, DISLAB_DIR)
from dislab.config import config_problems

# A --configfile is a whole config: it replaces config/config.yaml, it is not merged into it (a config that lists
# only beta-VAE trains only beta-VAE). --config KEY=VALUE still overrides single keys of whichever config is used.
CONFIG_FILES = [str(path) for path in workflow.config_settings.configfiles]
if not CONFIG_FILES:

    configfile: workflow.source_path("config/config.yaml")

    CONFIG_FILES = ["config/config.yaml"]


report: "workflow/report/workflow.rst"


try:
    validate(config, "workflow/schemas/config.schema.yaml")
except WorkflowError as err:
    problems = config_problems(config, workflow.source_path("workflow/schemas/config.schema.yaml"))
    raise WorkflowError(
        f"The config ({', '.join(CONFIG_FILES)}) is invalid; nothing was run. Fix these keys (see "
        "config/README.md; a --configfile is a complete config of its own, so start from a copy of "
        "config/config.yaml):\n  " + "\n  ".join(problems or [str(err)])
    ) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


# The download runs where Snakemake runs: cluster compute nodes often have no route to the internet.
localrules:
    all,
    download_dsprites,


say_training_needs_a_gpu_node()


onstart:
    refuse_training_without_a_gpu()


onsuccess:
    print_warnings()


onerror:
    print_warnings()


rule all:
    default_target: True
    input:
        final_outputs(),
