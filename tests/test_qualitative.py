import numpy as np
import torch

from dislab.figures import qualitative as q
from dislab.models.networks import VAE


def _model_with_known_kl(mu_values):
    """An encoder whose output ignores the image: mu = mu_values, log sigma^2 = 0, so KL_i = mu_i^2 / 2."""
    model = VAE(len(mu_values)).eval()
    last = model.encoder.net[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor(list(mu_values) + [0.0] * len(mu_values)))
    return model


def test_traversal_rows_are_sorted_by_known_kl(tiny_data):
    mu = [0.0, 3.0, 0.5, 2.0, 0.0, 1.0, 0.0, 0.0, 4.0, 0.1]
    model = _model_with_known_kl(mu)
    m, s = q.encode(model, tiny_data.images(range(20)))
    kl = q.latent_kl(m, s)
    np.testing.assert_allclose(kl, np.square(mu) / 2, atol=1e-5)
    assert q.kl_order(kl)[:5].tolist() == [8, 1, 3, 5, 2]
    assert q.active_latents(kl, threshold=0.1).tolist() == [8, 1, 3, 5, 2]  # 0.1^2/2 = 0.005 is below


def test_traversal_changes_only_the_traversed_latent(tiny_data):
    torch.manual_seed(0)
    model = VAE(10).eval()
    image = tiny_data.images([5])[0]
    rows = q.traverse(model, image, [2, 7], np.linspace(-3, 3, 4))
    assert rows.shape == (2, 4, 64, 64) and (rows >= 0).all() and (rows <= 1).all()
    assert not np.allclose(rows[0, 0], rows[0, -1])


def test_corruption_flips_the_expected_fraction_of_pixels():
    image = np.zeros((64, 64), dtype=np.uint8)
    image[20:40, 20:40] = 1
    rng = np.random.default_rng(0)
    for p in (0.001, 0.01, 0.05):
        flipped = np.mean([(q.flip_pixels(image, p, rng) != image).mean() for _ in range(200)])
        assert abs(flipped - p) < 0.15 * p + 2e-4
    assert np.array_equal(q.flip_pixels(image, 0.0, rng), image)
    assert np.array_equal(q.flip_pixels(image, 1.0, rng), 1 - image)


def test_input_image_is_the_nearest_grid_image(tiny_data):
    spec = {"shape": "heart", "scale": 1.0, "orientation": 0.0, "posX": 0.5, "posY": 0.5}
    index = q.nearest_image_index(tiny_data, spec)
    shape, scale, orient, x, y = tiny_data.values[index][1:]
    assert shape == 3 and scale == 1.0 and orient == 0.0
    assert abs(x - 0.5) <= 1 / 14 and abs(y - 0.5) <= 1 / 14  # 8 positions: the nearest is 3/7 or 4/7
