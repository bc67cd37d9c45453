"""The models learn what the thesis says they learn: β-VAE with β = 16 against the plain VAE (β = 1), on the renderer.

Unit tests say the code computes what it says; this one trains the thesis' network for real (batch 64, Adam 1e-4,
float32) on a reduced rendered grid (3 shapes x 6 scales x 10 orientations x 16 x 16 positions = 46,080 images),
one seed each, the two cells side by side on the two cores, and checks Section 5.3's trade-off on 2,000 held images:
the larger β reconstructs worse, keeps less KL and fewer active latents.

The margins come from measured seed noise (seeds 0-2 of each β, 1,000 steps; docs/performance.md, 2026-12-01):
reconstruction β = 1: 113.5-172.6 nats per image, β = 16: 251.0-279.4 (a gap of 132 between the means, of 78
between the worst seeds, seed sd <= 33); KL β = 1: 21.8-22.6, β = 16: 4.3-5.0 (gap 17.7, seed sd <= 0.4);
informative latents (mean KL > 0.5 nats) β = 1: 10 in every seed (the smallest KL 0.83), β = 16: 3-4. (At 1,000
steps the passive latents of β = 16 still hold 0.1-0.3 nats, so the figures' 0.1-nat bar counts 7-9 active there.)
"""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

STEPS = 1000
INFORMATIVE_KL = 0.5  # nats
GRID = {"shape": 3, "scale": 6, "orientation": 10, "posX": 16, "posY": 16}


def _train_and_score(args) -> dict:
    data_path, beta, outdir = args
    import torch

    from dislab.cells import Cell
    from dislab.data.loader import DSprites
    from dislab.evaluation.elbo import elbo_scores
    from dislab.models.checkpoint import load_vae
    from dislab.training.execution import Execution
    from dislab.training.settings import TrainSettings
    from dislab.training.trainer import train

    torch.set_num_threads(1)
    data = DSprites.load(data_path)
    settings = TrainSettings(
        latent_dim=10,
        batch_size=64,
        learning_rate=1e-4,
        adam_betas=(0.9, 0.999),
        discriminator={},
        epochs=None,
        steps=STEPS,
        log_every=100,
        precision="float32",
        options={},
    )
    train(
        data.packed,
        [Cell("betavae", beta, 0)],
        settings,
        [outdir],
        Execution(torch.device("cpu"), channels_last=True),
        progress=False,
    )
    scores = elbo_scores(load_vae(f"{outdir}/model.pt"), data, np.random.default_rng(0), 2000)
    return {
        "reconstruction": float(scores["reconstruction"]),
        "kl": float(scores["kl"]),
        "active": int((np.asarray(scores["kl_per_dim"]) > INFORMATIVE_KL).sum()),
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from dislab.data.grid import FactorGrid
    from dislab.data.synthetic import write_synthetic_hdf5

    root = tmp_path_factory.mktemp("science")
    data = root / "dsprites.hdf5"
    write_synthetic_hdf5(data, FactorGrid.from_mapping(GRID), workers=2, progress=False)
    jobs = [(str(data), beta, str(root / f"beta{beta:g}")) for beta in (1.0, 16.0)]
    with mp.get_context("spawn").Pool(2) as pool:
        plain, strong = pool.map(_train_and_score, jobs)
    return plain, strong


def test_larger_beta_reconstructs_worse(trained):
    plain, strong = trained
    assert strong["reconstruction"] - plain["reconstruction"] > 40, trained  # the seeds' worst gap is 78


def test_larger_beta_keeps_less_kl(trained):
    plain, strong = trained
    assert plain["kl"] - strong["kl"] > 10, trained  # gap 17.7 nats, seed sd 0.4


def test_larger_beta_keeps_fewer_active_latents(trained):
    plain, strong = trained
    assert plain["active"] == 10 and strong["active"] <= 6, trained  # 10 against 3-4 over three seeds
