"""The tables the tables rule writes, declared once: read by the rule, the report, the index and the tables job.
Free of pandas and numpy: the Snakefile reads it on every start-up (every cluster job's too)."""

# Every table the tables rule writes: key -> (file under results/tables/, its caption in workflow/report/, or None).
# The rule, the report, the index and write_all read this; the fig5_19 tables only where the grid has downstream
# cells. A table with a caption is in the report: as an HTML page, so that it shows as a table there (a CSV would be a
# download link); its CSV and Markdown sit beside it in results/tables/.
TABLE_FILES = {
    "metrics": ("metrics.csv", "metrics"),
    "table5_3_csv": ("table5_3.csv", None),
    "table5_3_md": ("table5_3.md", None),
    "table5_3_html": ("table5_3.html", "table5_3"),
    "table5_6_csv": ("table5_6.csv", None),
    "table5_6_md": ("table5_6.md", None),
    "table5_6_html": ("table5_6.html", "table5_6"),
    "fig5_13": ("fig5_13_metric_correlation.csv", None),
    "fig5_13_html": ("fig5_13_metric_correlation.html", "fig5_13_metric_correlation_table"),
    "fig5_16": ("fig5_16_metric_vs_unsupervised.csv", None),
    "fig5_16_html": ("fig5_16_metric_vs_unsupervised.html", "fig5_16_metric_vs_unsupervised_table"),
    "fig5_19": ("fig5_19_downstream_correlation.csv", None),
    "fig5_19_html": ("fig5_19_downstream_correlation.html", "fig5_19_downstream_correlation_table"),
}
TITLES = {
    "table5_3": "Table 5.3 — disentanglement metrics for β-VAE (mean ± sd over seeds)",
    "table5_6": "Table 5.6 — each model's best strength on each metric (mean ± sd over seeds; strength in brackets)",
    "fig5_13": "Figure 5.13 — Spearman rank correlation between the disentanglement metrics",
    "fig5_16": "Figure 5.16 — Spearman rank correlation of the metrics with the ELBO, reconstruction and KL",
    "fig5_19": "Figure 5.19 (b) — Spearman rank correlation of downstream accuracy with the metrics",
}


def needs_downstream(key: str) -> bool:
    return key.startswith("fig5_19")
