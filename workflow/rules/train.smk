# Train every (model, strength, seed) cell: each its own job, or, with training.pack_size > 1, the seeds of one
# (model, strength) in packs of that size, one job each (dislab/training/pack.py); every cell keeps its own files.
TRAINING = config["training"]
TRAIN_FLAGS = " ".join(
    flag
    for flag, wanted in (("--channels-last", TRAINING["channels_last"]), ("--compile", TRAINING["compile"]))
    if wanted
)


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
            settings=lambda wildcards: train_settings(wildcards.model),
            device=TRAINING["device"],
            flags=TRAIN_FLAGS,
            outdir=MODEL_DIR,
        shell:
            "python -m dislab train --data {input.data:q} --model {wildcards.model} --strength {wildcards.strength}"
            " --seed {wildcards.seed} --settings {params.settings:q} --device {params.device} --threads {threads}"
            " --checkpoint-every {resources.checkpoint_every} {params.flags} --outdir {params.outdir:q} > {log:q} 2>&1"

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
                settings=train_settings(pack["model"]),
                device=TRAINING["device"],
                flags=TRAIN_FLAGS,
                model=pack["model"],
                strength=pack["strength"],
                seeds=" ".join(str(c["seed"]) for c in pack["cells"]),
                outdirs=lambda wildcards, output: " ".join(os.path.dirname(path) for path in output.model),
            shell:
                "python -m dislab train --data {input.data:q} --model {params.model} --strength {params.strength}"
                " --seed {params.seeds} --settings {params.settings:q} --device {params.device} --threads {threads}"
                " --checkpoint-every {resources.checkpoint_every} {params.flags} --outdir {params.outdirs}"
                " > {log:q} 2>&1"


VAE_CELL = cell_of(config["figures"]["vae"])
VAE_SEEDS = [c for c in CELLS if c["model"] == VAE_CELL["model"] and c["strength"] == VAE_CELL["strength"]]
BETAVAE_CELLS = [c for c in CELLS if c["model"] == "betavae"]
TRAINING_FIGURES = [f.png for f in figures("training", models=config["models"])]


rule figure_prior_samples:
    input:
        model=cell_files("model.pt", [VAE_CELL]),
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
        seed=config["figures"]["random_seed"],
        n=config["figures"]["num_prior_samples"],
    shell:
        "python -m dislab figure-prior-samples --model {input.model:q} --num-samples {params.n}"
        " --seed {params.seed} --out {output.png:q} > {log:q} 2>&1"


rule figure_reconstructions:
    input:
        data=dataset_file(),
        checked="results/data/dataset.json",
        model=cell_files("model.pt", [VAE_CELL]),
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
        seed=config["figures"]["random_seed"],
        n=config["figures"]["num_reconstructions"],
    shell:
        "python -m dislab figure-reconstructions --data {input.data:q} --model {input.model:q}"
        " --num-images {params.n} --seed {params.seed} --out {output.png:q} > {log:q} 2>&1"


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
    shell:
        "python -m dislab figure-reconstruction-per-epoch --logs {input.logs:q} --out {output.png:q} > {log:q} 2>&1"


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
    shell:
        "python -m dislab figure-objective-per-beta --logs {input.logs:q} --out {output.png:q} > {log:q} 2>&1"
