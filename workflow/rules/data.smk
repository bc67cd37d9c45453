# dSprites in: download (checksum-verified) or render, then check the file, then Figure 5.1.


rule download_dsprites:
    output:
        DATASET_FILES["download"],
    log:
        "logs/data/download_dsprites.log",
    conda:
        "../../envs/data.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        dataset=as_json(config["dataset"]),
    shell:
        "python -m dislab download --dataset {params.dataset:q} --out {output:q} > {log:q} 2>&1"


rule render_dsprites:
    output:
        DATASET_FILES["synthetic"],
    log:
        "logs/data/render_dsprites.log",
    conda:
        "../../envs/data.yaml"
    threads: RESOURCES["evaluate"]["threads"]
    resources:
        mem_mb=RESOURCES["evaluate"]["mem_mb"],
        runtime=RESOURCES["evaluate"]["runtime_minutes"],
    params:
        grid=as_json(config["dataset"]["synthetic_grid"]),
    shell:
        "python -m dislab render --grid {params.grid:q} --workers {threads} --out {output:q} > {log:q} 2>&1"


rule check_dataset:
    input:
        dataset_file(),
    output:
        "results/data/dataset.json",
    log:
        "logs/data/check_dataset.log",
    conda:
        "../../envs/data.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        dataset=as_json(dataset_check_settings()),
    shell:
        "python -m dislab check-dataset --dataset {params.dataset:q} --file {input:q} --out {output:q} > {log:q} 2>&1"


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
        seed=config["figures"]["random_seed"],
    shell:
        "python -m dislab figure-dataset --data {input.data:q} --seed {params.seed} --out {output.png:q} > {log:q} 2>&1"
