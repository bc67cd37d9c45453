import numpy as np
import pytest
from conftest import SHARED

from dislab.data import render
from dislab.data.grid import FULL_SIZES, FactorGrid
from dislab.data.render import render_positions


def test_full_grid_values_and_order_match_the_official_file():
    grid = FactorGrid()
    assert grid.num_images == 737_280
    assert grid.bases.tolist() == [737280, 245760, 40960, 1024, 32, 1]
    classes = grid.all_classes()
    assert classes[1].tolist() == [0, 0, 0, 0, 0, 1]  # posY varies fastest
    assert classes[32].tolist() == [0, 0, 0, 0, 1, 0]
    assert classes[87040].tolist() == [0, 0, 2, 5, 0, 0]  # square, scale 2, orientation 5
    assert np.array_equal(classes @ grid.bases, np.arange(grid.num_images))
    values = grid.values()
    assert values[1].tolist() == [1.0, 2.0, 3.0]
    assert np.allclose(values[2], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert values[3][0] == 0 and np.isclose(values[3][-1], 2 * np.pi) and len(values[3]) == 40
    assert np.isclose(values[4][1], 1 / 31)


def test_reduced_grid_uses_the_same_code_path(tiny_grid, tiny_data):
    assert len(tiny_data) == tiny_grid.num_images == 3 * 2 * 4 * 8 * 8
    assert tiny_data.factor_sizes == (3, 2, 4, 8, 8)
    # the file's images are exactly what the renderer draws for each row's latent values
    rng = np.random.default_rng(0)
    for i in rng.choice(len(tiny_data), 20, replace=False):
        _, shape, scale, orient, x, y = tiny_data.values[i]
        expected = render.render(render.SHAPES[int(shape) - 1], scale, orient, x, y)
        assert np.array_equal(tiny_data.images([i])[0], expected)


def test_rendering_is_deterministic_and_binary():
    pos = np.linspace(0, 1, 5)
    a = render_positions("heart", 0.8, 1.3, pos, pos)
    b = render_positions("heart", 0.8, 1.3, pos, pos)
    assert a.dtype == np.uint8 and set(np.unique(a)) == {0, 1}
    assert np.array_equal(a, b)


@pytest.mark.parametrize("shape", ["square", "ellipse", "heart"])
def test_shapes_never_touch_the_two_border_pixels(shape):
    pos = np.array([0.0, 1.0])
    for orientation in np.linspace(0, 2 * np.pi, 40):
        images = render_positions(shape, 1.0, orientation, pos, pos)
        assert images[..., :2, :].sum() == 0 and images[..., -2:, :].sum() == 0
        assert images[..., :, :2].sum() == 0 and images[..., :, -2:].sum() == 0


def test_orientation_zero_and_two_pi_render_identically():
    pos = np.linspace(0, 1, 32)
    for shape in ("square", "ellipse", "heart"):
        assert np.array_equal(
            render_positions(shape, 0.7, 0.0, pos, pos), render_positions(shape, 0.7, 2 * np.pi, pos, pos)
        )


def test_axis_conventions():
    img = render.render("ellipse", 1.0, 0.0, 0.0, 1.0)  # posX 0 -> left, posY 1 -> bottom
    rows, cols = np.nonzero(img)
    assert cols.mean() < 20 and rows.mean() > 44
    assert np.ptp(cols) > np.ptp(rows)  # major axis horizontal at orientation 0
    heart = render.render("heart", 1.0, 0.0)
    top, bottom = heart[:32].sum(axis=1), heart[32:].sum(axis=1)
    assert top.max() > bottom.max()  # lobes on top, tip at the bottom


def test_sizes_match_the_real_images_pixel_counts():
    # real dsprites.gif at orientation 0, pos (0, 0), scale 0.5 and 1 (dsprites-facts.md 2.5)
    real = {"square": (100, 400), "ellipse": (76, 288), "heart": (58, 222)}
    for shape, (small, large) in real.items():
        assert abs(int(render.render(shape, 0.5, 0, 0, 0).sum()) - small) <= 3
        assert abs(int(render.render(shape, 1.0, 0, 0, 0).sum()) - large) <= 3


def test_triangle_is_drawn_outside_the_dataset():
    tri = render.render("triangle", 1.0, 0.0)
    assert 100 < tri.sum() < 400
    for shape in ("square", "ellipse", "heart"):
        assert not np.array_equal(tri, render.render(shape, 1.0, 0.0))
    assert not np.array_equal(tri, render.render("triangle", 1.0, np.pi / 3 + 0.3))


def test_matches_the_real_frames_of_dsprites_gif():
    gif = SHARED / "data" / "dsprites.gif"
    if not gif.exists():
        pytest.skip(f"{gif} is absent: the real-pixel regression needs DeepMind's dsprites.gif there")
    from gif_labels import gif_frame_labels
    from PIL import Image, ImageSequence

    frames = [np.array(f.convert("L")) > 127 for f in ImageSequence.Iterator(Image.open(gif))]
    values = FactorGrid(FULL_SIZES).values()
    wrong = 0
    for frame, (shape, scale, orient, x, y) in zip(frames, gif_frame_labels(), strict=True):
        img = render.render(render.SHAPES[shape], values[2][scale], values[3][orient], values[4][x], values[5][y])
        wrong += int((img.astype(bool) != frame).sum())
    assert wrong <= 50, f"{wrong} pixels differ from the 320 real frames"
