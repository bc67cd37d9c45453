# results/README.md: an index of every table and figure, with the first line of its report caption.

INDEXED = {
    **{f.png: f.name for f in FIGURES},
    **{TABLES[key]: caption for key, caption in TABLE_CAPTIONS.items()},
    FIDELITY["html"]: "fidelity",
    FIDELITY["claims"]: "fidelity_claims",
}
CAPTION_FILES = {
    path: os.path.join(DISLAB_DIR, "workflow", "report", f"{caption}.rst") for path, caption in INDEXED.items()
}


rule results_index:
    input:
        list(INDEXED),
        TABLES.values(),
        FIDELITY.values(),
        captions=list(CAPTION_FILES.values()),  # editing a caption rewrites the index
    output:
        index="results/README.md",
    log:
        "logs/results_index.log",
    conda:
        "../../envs/plots.yaml"
    threads: RESOURCES["light"]["threads"]
    resources:
        mem_mb=RESOURCES["light"]["mem_mb"],
        runtime=RESOURCES["light"]["runtime_minutes"],
    params:
        **plain_params(
            entries=CAPTION_FILES,
            config_files=[shown_path(path) for path in CONFIG_FILES],
            dataset=config["dataset"],
            smoke=SMOKE,
        ),
    script:
        "../scripts/results_index.py"
