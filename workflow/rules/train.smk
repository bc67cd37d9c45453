# Train every (model, strength, seed) cell: each its own job, or, with training.pack_size > 1, the seeds of one
# (model, strength) in packs of that size, one job each (dislab/training/pack.py); every cell keeps its own files.
TRAINING = config["training"]


if TRAINING["pack_size"] == 1:

    rule train:
        input:
            data=dataset_file(),
            checked="results/data/dataset.json",
        output:
            model="results/models/{model}/{strength}/seed{seed}/model.pt",
            train_log="results/models/{model}/{strength}/seed{seed}/train_log.csv",
            summary="results/models/{model}/{strength}/seed{seed}/summary.json",
        log:
            "logs/train/{model}/{strength}/seed{seed}.log",
        conda:
            TRAIN_ENV
        threads: RESOURCES["train"]["threads"]
        resources:
            mem_mb=RESOURCES["train"]["mem_mb"],
            runtime=RESOURCES["train"]["runtime_minutes"],
            gpu=TRAIN_GPUS,
            checkpoint_every=TRAINING["checkpoint_every"],  # not a param: changing it must not retrain
        params:
            **job_params(
                cells=lambda wildcards: [dict(wildcards.items())],
                settings=lambda wildcards: train_settings(wildcards.model),
                **EXECUTION,
            ),
        shell:
            dislab("train")

else:
    for pack in training_packs(TRAINING["pack_size"]):

        rule:
            name:
                pack["rule"]
            input:
                data=dataset_file(),
                checked="results/data/dataset.json",
            output:
                model=cell_files("model.pt", pack["cells"]),
                train_log=cell_files("train_log.csv", pack["cells"]),
                summary=cell_files("summary.json", pack["cells"]),
            log:
                pack["log"],
            conda:
                TRAIN_ENV
            threads: RESOURCES["train"]["threads"]
            resources:
                mem_mb=RESOURCES["train"]["mem_mb"],
                runtime=RESOURCES["train"]["runtime_minutes"],
                gpu=TRAIN_GPUS,
                checkpoint_every=TRAINING["checkpoint_every"],  # not a param: changing it must not retrain
            params:
                **job_params(cells=pack["cells"], settings=train_settings(pack["model"]), **EXECUTION),
            shell:
                dislab("train")


VAE_CELL = cell_of(config["figures"]["vae"])
VAE_SEEDS = in_order(c for c in CELLS if c["model"] == VAE_CELL["model"] and c["strength"] == VAE_CELL["strength"])
BETAVAE_CELLS = in_order(c for c in CELLS if c["model"] == "betavae")
TRAINING_FIGURES = [f.png for f in figures("training", models=config["models"])]


rule figure_prior_samples:
    input:
        model=cell_file("model.pt", VAE_CELL),
    output:
        png=report(
            "results/figures/fig5_02_prior_samples.png",
            caption="../report/fig5_02_prior_samples.rst",
            category="Figures",
        ),
        pdf="results/figures/fig5_02_prior_samples.pdf",
    log:
        "logs/figures/fig5_02_prior_samples.log",
    group:
        "figures"
    conda:
        "../../envs/plots.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **job_params(
            cell=VAE_CELL,
            seed=config["figures"]["random_seed"],
            num_samples=config["figures"]["num_prior_samples"],
        ),
    shell:
        dislab("figure-prior-samples")


rule figure_reconstructions:
    input:
        data=dataset_file(),
        checked="results/data/dataset.json",
        model=cell_file("model.pt", VAE_CELL),
    output:
        png=report(
            "results/figures/fig5_03_reconstructions.png",
            caption="../report/fig5_03_reconstructions.rst",
            category="Figures",
        ),
        pdf="results/figures/fig5_03_reconstructions.pdf",
    log:
        "logs/figures/fig5_03_reconstructions.log",
    group:
        "figures"
    conda:
        "../../envs/plots.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **job_params(
            cell=VAE_CELL,
            seed=config["figures"]["random_seed"],
            num_images=config["figures"]["num_reconstructions"],
        ),
    shell:
        dislab("figure-reconstructions")


rule figure_reconstruction_per_epoch:
    input:
        logs=cell_files("train_log.csv", VAE_SEEDS),
    output:
        png=report(
            "results/figures/fig5_04_reconstruction_per_epoch.png",
            caption="../report/fig5_04_reconstruction_per_epoch.rst",
            category="Figures",
        ),
        pdf="results/figures/fig5_04_reconstruction_per_epoch.pdf",
    log:
        "logs/figures/fig5_04_reconstruction_per_epoch.log",
    group:
        "figures"
    conda:
        "../../envs/plots.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **job_params(cells=VAE_SEEDS),
    shell:
        dislab("figure-reconstruction-per-epoch")


rule figure_objective_per_beta:
    input:
        logs=cell_files("train_log.csv", BETAVAE_CELLS),
    output:
        png=report(
            "results/figures/fig5_07_objective_per_beta.png",
            caption="../report/fig5_07_objective_per_beta.rst",
            category="Figures",
        ),
        pdf="results/figures/fig5_07_objective_per_beta.pdf",
    log:
        "logs/figures/fig5_07_objective_per_beta.log",
    group:
        "figures"
    conda:
        "../../envs/plots.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **job_params(cells=BETAVAE_CELLS),
    shell:
        dislab("figure-objective-per-beta")
