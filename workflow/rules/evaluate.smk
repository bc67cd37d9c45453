# Fan in from the trained cells: metrics and downstream per cell, then tables, Spearman tables and figures.

DOWNSTREAM_MODELS = (
    list(config["models"]) if config["downstream"]["models"] == "all" else config["downstream"]["models"]
)
# The fan-in jobs' cells (in_order: the config's order does not matter) and their files, in the same order.
METRIC_CELLS = in_order(CELLS)
DOWNSTREAM_CELLS = [c for c in METRIC_CELLS if c["model"] in DOWNSTREAM_MODELS]
METRIC_FILES = [f"results/metrics/{c['model']}/{c['strength']}/seed{c['seed']}.json" for c in METRIC_CELLS]
DOWNSTREAM_FILES = [f"results/downstream/{c['model']}/{c['strength']}/seed{c['seed']}.json" for c in DOWNSTREAM_CELLS]
# dislab/evaluation/tables.py declares the tables (file and caption); fig5_19 only with downstream cells.
TABLES = {
    key: f"results/tables/{name}" for key, (name, _) in TABLE_FILES.items() if key != "fig5_19" or DOWNSTREAM_CELLS
}
TABLE_CAPTIONS = {key: caption for key, (_, caption) in TABLE_FILES.items() if caption and key in TABLES}

# figure name -> the Spearman table it draws (None: it draws metrics.csv alone), from dislab/figures/registry.py
EVALUATION_FIGURES = {
    f.name: TABLES[f.correlation] if f.correlation else None
    for f in figures("evaluation", models=config["models"], downstream=bool(DOWNSTREAM_CELLS))
}


rule evaluate:
    input:
        data=dataset_file(),
        checked="results/data/dataset.json",
        model="results/models/{model}/{strength}/seed{seed}/model.pt",
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
        **job_params(settings=config["metrics"]),
    shell:
        dislab("evaluate")


rule downstream:
    input:
        data=dataset_file(),
        checked="results/data/dataset.json",
        model="results/models/{model}/{strength}/seed{seed}/model.pt",
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
        **job_params(settings={**config["downstream"], "random_seed": config["metrics"]["random_seed"]}),
    shell:
        dislab("downstream")


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
        **job_params(cells=METRIC_CELLS, downstream_cells=DOWNSTREAM_CELLS),
    shell:
        dislab("tables")


FIDELITY = {
    "csv": "results/tables/fidelity.csv",
    "claims": "results/tables/fidelity_claims.csv",
    "md": "results/tables/fidelity.md",
}


rule fidelity:
    input:
        metrics=METRIC_FILES,
        downstream=DOWNSTREAM_FILES,
        dataset="results/data/dataset.json",
        thesis_values=os.path.join(DISLAB_DIR, "dislab", "reference", "thesis_values.csv"),
    output:
        csv=report(FIDELITY["csv"], caption="../report/fidelity.rst", category="Fidelity"),
        claims=report(FIDELITY["claims"], caption="../report/fidelity_claims.rst", category="Fidelity"),
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
        **job_params(cells=METRIC_CELLS, downstream_cells=DOWNSTREAM_CELLS, settings=fidelity_settings()),
    shell:
        dislab("fidelity")


for figure, correlation in EVALUATION_FIGURES.items():

    rule:
        name:
            f"figure_{figure}"
        input:
            table=TABLES["metrics"],
            correlation=correlation or [],
        output:
            png=report(f"results/figures/{figure}.png", caption=f"../report/{figure}.rst", category="Figures"),
            pdf=f"results/figures/{figure}.pdf",
        log:
            f"logs/figures/{figure}.log",
        group:
            "figures"
        conda:
            "../../envs/plots.yaml"
        threads: RESOURCES["light"]["threads"]
        resources:
            mem_mb=RESOURCES["light"]["mem_mb"],
            runtime=RESOURCES["light"]["runtime_minutes"],
        params:
            **job_params(name=figure),
        shell:
            dislab("figure-evaluation")
