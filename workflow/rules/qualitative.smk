# Qualitative figures from trained models: traversals, encoder KDEs, aggregate posteriors, domain-shift probes.

FIGURE_SETTINGS = {
    k: config["figures"][k]
    for k in ("random_seed", "num_points", "active_kl_threshold", "traversal", "input_image", "flip_probabilities")
}
# figure name -> the cells it shows (the config's figures section names them), from dislab/figures/registry.py
QUALITATIVE_CELLS = {}
for f in figures("qualitative", models=config["models"]):
    shown = config["figures"][f.cells]
    QUALITATIVE_CELLS[f.name] = [cell_of(c) for c in (shown if isinstance(shown, list) else [shown])]


for figure in QUALITATIVE_CELLS:

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
            **job_params(name=figure, cells=QUALITATIVE_CELLS[figure], settings=FIGURE_SETTINGS),
        shell:
            dislab("figure-qualitative")
