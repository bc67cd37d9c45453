# Qualitative figures from trained models: traversals, encoder KDEs, aggregate posteriors, domain-shift probes.

FIGURE_SETTINGS = {
    k: config["figures"][k]
    for k in ("random_seed", "num_points", "active_kl_threshold", "traversal", "input_image", "flip_probabilities")
}
# figure output name -> (the dislab figure it draws, the cells it shows)
QUALITATIVE_FIGURES = {
    "fig5_05_traversal": ("traversal-all", [config["figures"]["fig5_05"]]),
    "fig5_06_encoder_kde": ("encoder-kde", [config["figures"]["fig5_06"]]),
    "fig5_08_traversal": ("traversal-active", [config["figures"]["fig5_08"]]),
    "fig5_10_traversals": ("traversal-active", config["figures"]["fig5_10"]),
    "fig5_12_aggregate_posterior": ("aggregate-posterior", config["figures"]["fig5_12"]),
    "fig5_17_corrupted_inputs": ("corruption", [config["figures"]["fig5_17"]]),
    "fig5_18_domain_shift": ("domain-shift", [config["figures"]["fig5_18"]]),
}
QUALITATIVE_CELLS = {name: [cell_of(c) for c in cells] for name, (_, cells) in QUALITATIVE_FIGURES.items()}


for figure, (kind, cells) in QUALITATIVE_FIGURES.items():

    rule:
        name:
            f"figure_{figure}"
        input:
            data=dataset_file(),
            checked="results/data/dataset.json",
            models=cell_files("model.pt", QUALITATIVE_CELLS[figure]),
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
            kind=kind,
            number=figure[3:7].replace("_0", ".").replace("_", "."),
            settings=as_json(FIGURE_SETTINGS),
        shell:
            "python -m dislab figure-qualitative --kind {params.kind} --number {params.number}"
            " --data {input.data:q} --models {input.models:q} --settings {params.settings:q}"
            " --out {output.png:q} > {log:q} 2>&1"
