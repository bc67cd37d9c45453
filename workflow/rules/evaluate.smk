# Fan in from the trained cells: metrics and downstream per cell, then the tables and the fidelity page.


rule evaluate:
    input:
        **dataset_inputs(),
        model=f"{MODEL_DIR}/model.pt",
    output:
        metrics="results/metrics/{model}/{strength}/seed{seed}.json",
    log:
        "logs/evaluate/{model}/{strength}/seed{seed}.log",
    group:
        "evaluate"
    conda:
        "../../envs/evaluate.yaml"
    threads: RESOURCES["evaluate"]["threads"]
    resources:
        mem_mb=RESOURCES["evaluate"]["mem_mb"],
        runtime=RESOURCES["evaluate"]["runtime_minutes"],
    params:
        **plain_params(settings=config["metrics"]),
    script:
        "../scripts/evaluate.py"


rule downstream:
    input:
        **dataset_inputs(),
        model=f"{MODEL_DIR}/model.pt",
    output:
        downstream="results/downstream/{model}/{strength}/seed{seed}.json",
    log:
        "logs/downstream/{model}/{strength}/seed{seed}.log",
    group:
        "evaluate"
    conda:
        "../../envs/evaluate.yaml"
    threads: RESOURCES["evaluate"]["threads"]
    resources:
        mem_mb=RESOURCES["evaluate"]["mem_mb"],
        runtime=RESOURCES["evaluate"]["runtime_minutes"],
    params:
        **plain_params(settings={**config["downstream"], "random_seed": config["metrics"]["random_seed"]}),
    script:
        "../scripts/downstream.py"


rule tables:
    input:
        metrics=METRIC_FILES,
        downstream=DOWNSTREAM_FILES,
    output:
        **{
            key: (
                report(path, caption=f"../report/{TABLE_CAPTIONS[key]}.rst", category="Tables")
                if key in TABLE_CAPTIONS
                else path
            )
            for key, path in TABLES.items()
        },
    log:
        "logs/tables.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **plain_params(cells=METRIC_CELLS, downstream_cells=DOWNSTREAM_CELLS),
    script:
        "../scripts/tables.py"


rule fidelity:
    input:
        metrics=METRIC_FILES,
        downstream=DOWNSTREAM_FILES,
        summaries=cell_files("summary.json", METRIC_CELLS),
        dataset=DATASET_CHECK,
        data=dataset_file(),
        thesis_values=os.path.join(DISLAB_DIR, "dislab", "reference", "thesis_values.csv"),
    output:
        html=report(FIDELITY["html"], caption="../report/fidelity.rst", category="Fidelity"),
        csv=FIDELITY["csv"],
        claims=FIDELITY["claims"],
        md=FIDELITY["md"],
    log:
        "logs/fidelity.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        # a function: config/thesis.yaml is read and validated for this job only, not on every start-up
        **plain_params(
            cells=METRIC_CELLS, downstream_cells=DOWNSTREAM_CELLS, settings=lambda wildcards: fidelity_settings()
        ),
    script:
        "../scripts/fidelity.py"
