import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from dislab.cells import Cell
from dislab.data.grid import FactorSpace
from dislab.evaluation.downstream import downstream_task
from dislab.evaluation.elbo import elbo_scores
from dislab.evaluation.representation import EncoderMeans
from dislab.evaluation.tables import spearman, table_5_3, table_5_6, write_all
from dislab.models.networks import VAE

SPACE = FactorSpace((3, 6, 10, 8, 8))


def test_downstream_on_the_factors_themselves_is_near_perfect():
    result = downstream_task(
        SPACE,
        lambda f: f.astype(float),
        np.random.default_rng(0),
        [10, 100, 1000],
        500,
        "gbt",
        sample_efficiency=[100, 1000],
    )
    assert result["1000:mean_test_accuracy"] > 0.98
    assert result["10:mean_test_accuracy"] < result["1000:mean_test_accuracy"]
    assert np.isclose(result["sample_efficiency"], result["100:mean_test_accuracy"] / result["1000:mean_test_accuracy"])


def test_downstream_on_noise_is_chance():
    def noise(f):
        return np.random.default_rng(int(f.sum())).normal(size=(len(f), 5))

    result = downstream_task(SPACE, noise, np.random.default_rng(0), [1000], 1000, "hist_gbt", n_jobs=2)
    chance = np.mean([1 / s for s in SPACE.factor_sizes])
    assert abs(result["1000:mean_test_accuracy"] - chance) < 0.05


def test_downstream_with_a_single_class_in_ten_points_does_not_crash():
    space = FactorSpace((1, 2, 2, 2, 2))  # the first factor has one value
    result = downstream_task(space, lambda f: f.astype(float), np.random.default_rng(0), [10], 50, "gbt")
    assert result["10:test_accuracy_factor_0"] == 1.0


def test_memoised_representation_equals_encoding_every_time(tiny_data):
    torch.manual_seed(0)
    model = VAE(10).eval()
    factors = tiny_data.sample_factors(3000, np.random.default_rng(0))  # > 1,536 images: repeats
    memo = EncoderMeans(model, tiny_data, batch_size=256)
    plain = EncoderMeans(model, tiny_data, batch_size=64, memoise=False)
    np.testing.assert_allclose(memo(factors), plain(factors), rtol=1e-5, atol=1e-6)
    assert memo.encoded <= len(tiny_data) < plain.encoded
    with torch.no_grad():
        direct = model.encoder(torch.from_numpy(tiny_data.images_from_factors(factors[:5])))[0].numpy()
    np.testing.assert_allclose(memo(factors[:5]), direct, rtol=1e-5, atol=1e-6)


def test_elbo_is_reconstruction_plus_kl_and_seeded(tiny_data):
    torch.manual_seed(0)
    model = VAE(10).eval()
    a = elbo_scores(model, tiny_data, np.random.default_rng(5), 300)
    b = elbo_scores(model, tiny_data, np.random.default_rng(5), 300)
    assert a == b
    assert np.isclose(a["elbo"], -(a["reconstruction"] + a["kl"]))
    assert np.isclose(sum(a["kl_per_dim"]), a["kl"]) and a["reconstruction"] > 0


def _synthetic_table():
    rows = []
    for model, strengths in (("betavae", [1, 3]), ("factorvae", [5, 10])):
        for s in strengths:
            for seed in range(3):
                base = s / 10 + seed / 100
                rows.append(
                    {
                        "model": model,
                        "strength": float(s),
                        "seed": seed,
                        "beta_vae": base,
                        "factor_vae": 1 - base,
                        "mig": base**2,
                        "elbo": -base,
                        "reconstruction": base,
                        "kl": 1 + base,
                    }
                )
    return pd.DataFrame(rows)


def test_spearman_on_known_ranks():
    table = _synthetic_table()
    corr = spearman(table, ["beta_vae", "factor_vae", "mig"], ["beta_vae", "factor_vae", "mig"])
    assert np.allclose(corr.to_numpy(), [[1, -1, 1], [-1, 1, -1], [1, -1, 1]])
    unsup = spearman(table, ["beta_vae"], ["elbo", "reconstruction", "kl"])
    assert np.allclose(unsup.to_numpy(), [[-1, 1, 1]])


def test_table_5_3_and_5_6():
    table = _synthetic_table()
    t3 = table_5_3(table)
    assert t3["β"].tolist() == ["1", "3"] and t3["seeds"].tolist() == [3, 3]
    betas = table[(table.model == "betavae") & (table.strength == 3)]["beta_vae"]
    assert t3.loc[1, "β-VAE metric"] == f"{betas.mean():.3f} ± {betas.std(ddof=1):.3f}"
    t6 = table_5_6(table).set_index("model")
    assert t6.loc["factorvae", "β-VAE metric"].endswith("(10)")  # the larger strength scores higher
    assert t6.loc["factorvae", "FactorVAE metric"].endswith("(5)")
    assert t6.loc["factorvae", "seeds"] == "3"  # each mean is over three seeds


def test_fan_in_from_json_files(tmp_path):
    metrics, downstream = [], []
    cells = (("betavae", "1", 0, 0.5), ("betavae", "3", 0, 0.7), ("factorvae", "10", 1, 0.9))
    for model, strength, seed, score in cells:
        result = {
            "beta_vae": {"eval_accuracy": score},
            "factor_vae": {"eval_accuracy": score / 2},
            "mig": {"discrete_mig": score / 3},
            "dci": {"disentanglement": 0.1, "completeness": 0.2, "informativeness_test": 0.3},
            "sap": {"sap_score": 0.1},
            "modularity": {"modularity_score": 0.5, "explicitness_score_test": 0.6},
            "unsupervised": {
                "gaussian_total_correlation": 1.0,
                "gaussian_wasserstein_correlation": 2.0,
                "mutual_info_score": 0.1,
            },
            "elbo": {"elbo": -score, "reconstruction": score, "kl": 1.0},
        }
        path = tmp_path / "metrics" / model / strength / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result))
        metrics.append((Cell(model, float(strength), seed), path))
        if model == "factorvae":
            d = tmp_path / "downstream" / model / strength / f"seed{seed}.json"
            d.parent.mkdir(parents=True, exist_ok=True)
            d.write_text(
                json.dumps({"10:mean_test_accuracy": 0.3, "100:mean_test_accuracy": 0.6, "sample_efficiency": 0.5})
            )
            downstream.append((Cell(model, float(strength), seed), d))
    out = {
        k: tmp_path / "tables" / f"{k}.csv"
        for k in ("metrics", "table5_3_csv", "table5_6_csv", "fig5_13", "fig5_16", "fig5_19")
    }
    out.update(table5_3_md=tmp_path / "tables" / "t3.md", table5_6_md=tmp_path / "tables" / "t6.md")
    out.update(
        {
            f"{k}_html": tmp_path / "tables" / f"{k}.html"
            for k in ("table5_3", "table5_6", "fig5_13", "fig5_16", "fig5_19")
        }
    )
    table = write_all(metrics, downstream, out)
    with pytest.raises(ValueError, match="unknown tables"):
        write_all(metrics, downstream, {**out, "table5_4": tmp_path / "t4.csv"})
    assert len(table) == 3 and set(table["model"]) == {"betavae", "factorvae"}
    assert table.loc[table.model == "factorvae", "downstream_100"].item() == 0.6
    assert np.isnan(table.loc[table.model == "betavae", "downstream_100"]).all()
    md = (tmp_path / "tables" / "t3.md").read_text()
    assert md.startswith("| β ") and "| 0.500 " in md
    corr = pd.read_csv(out["fig5_13"], index_col=0)
    assert corr.loc["beta_vae", "mig"] == pytest.approx(1.0)
    page = out["table5_3_html"].read_text()  # what the report shows: a table, titled
    assert "<title>Table 5.3" in page and "<td>0.500</td>" in page


def test_table_and_chart_jobs_do_not_import_torch_or_scikit_learn():
    """The tables job and the figures drawn from tables and training logs run as jobs of their own; importing
    torch and scikit-learn there cost each job seconds of start-up and computed nothing."""
    modules = ["dislab.evaluation.tables", "dislab.figures.evaluation", "dislab.figures.training"]
    code = f"import sys, {', '.join(modules)}; print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
