# dSprites in: download (checksum-verified) or render, then check the file.


# Runs where Snakemake runs (Snakefile: localrules), not on a compute node, which often has no route to the internet.
rule download_dsprites:
    output:
        hdf5=DATASET_FILES["download"],
    log:
        "logs/data/download_dsprites.log",
    conda:
        "../../envs/data.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **plain_params(dataset=config["dataset"]),
    script:
        "../scripts/download.py"


rule render_dsprites:
    output:
        hdf5=DATASET_FILES["synthetic"],
    log:
        "logs/data/render_dsprites.log",
    conda:
        "../../envs/data.yaml"
    threads: RESOURCES["evaluate"]["threads"]
    resources:
        mem_mb=RESOURCES["evaluate"]["mem_mb"],
        runtime=RESOURCES["evaluate"]["runtime_minutes"],
    params:
        **plain_params(grid=config["dataset"]["synthetic_grid"]),
    script:
        "../scripts/render.py"


rule check_dataset:
    input:
        hdf5=dataset_file(),
    output:
        summary=DATASET_CHECK,
    log:
        "logs/data/check_dataset.log",
    conda:
        "../../envs/data.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **plain_params(dataset=dataset_check_settings()),
    script:
        "../scripts/check_dataset.py"
