# dSprites in: download (checksum-verified) or render, then check the file, then Figure 5.1.


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
        **job_params(dataset=config["dataset"]),
    shell:
        dislab("download")


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
        **job_params(grid=config["dataset"]["synthetic_grid"]),
    shell:
        dislab("render")


rule check_dataset:
    input:
        hdf5=dataset_file(),
    output:
        summary="results/data/dataset.json",
    log:
        "logs/data/check_dataset.log",
    conda:
        "../../envs/data.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **job_params(dataset=dataset_check_settings()),
    shell:
        dislab("check-dataset")


rule figure_dataset:
    input:
        data=dataset_file(),
        checked=rules.check_dataset.output,
    output:
        png=report(
            "results/figures/fig5_01_dataset.png",
            caption="../report/fig5_01_dataset.rst",
            category="Figures",
        ),
        pdf="results/figures/fig5_01_dataset.pdf",
    log:
        "logs/figures/fig5_01_dataset.log",
    group:
        "figures"
    conda:
        "../../envs/plots.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **job_params(seed=config["figures"]["random_seed"]),
    shell:
        dislab("figure-dataset")
