# Every figure of Chapter 5, one rule each, from dislab/figures/registry.py: what it draws from (common.smk:
# figure_inputs), the cells it shows and the settings it reads (figure_params).


for figure in FIGURES:

    rule:
        name:
            f"figure_{figure.name}"
        input:
            **figure_inputs(figure),
        output:
            png=report(figure.png, caption=f"../report/{figure.name}.rst", category="Figures"),
            pdf=f"results/figures/{figure.name}.pdf",
        log:
            f"logs/figures/{figure.name}.log",
        group:
            figure_group(figure)
        conda:
            "../../envs/plots.yaml"
        threads: RESOURCES["light"]["threads"]
        resources:
            mem_mb=RESOURCES["light"]["mem_mb"],
            runtime=RESOURCES["light"]["runtime_minutes"],
        params:
            **figure_params(figure),
        script:
            "../scripts/figure.py"
