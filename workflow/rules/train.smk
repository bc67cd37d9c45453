# Train every (model, strength, seed) cell: each its own job, or, with training.pack_size > 1, the seeds of one
# (model, strength) in packs of that size, one job each (dislab/training/pack.py); every cell keeps its own files.
# The checkpoint cadence (training.checkpoint_every) is no param here: the job reads it from the config, since
# resuming is exact and changing it must retrain nothing.


if config["training"]["pack_size"] == 1:

    rule train:
        input:
            **dataset_inputs(),
        output:
            model=f"{MODEL_DIR}/model.pt",
            train_log=f"{MODEL_DIR}/train_log.csv",
            summary=f"{MODEL_DIR}/summary.json",
        log:
            "logs/train/{model}/{strength}/seed{seed}.log",
        conda:
            TRAIN_ENV
        threads: RESOURCES["train"]["threads"]
        resources:
            mem_mb=RESOURCES["train"]["mem_mb"],
            runtime=RESOURCES["train"]["runtime_minutes"],
            gpu=TRAIN_GPUS,
        params:
            **plain_params(**EXECUTION),
            cells=cell_params,
            settings=lambda wildcards: SETTINGS[wildcards.model],
        script:
            "../scripts/train.py"

else:
    for pack in training_packs(config["training"]["pack_size"]):

        rule:
            name:
                pack["rule"]
            input:
                **dataset_inputs(),
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
            params:
                **train_params(pack["cells"], pack["model"]),
            script:
                "../scripts/train.py"
