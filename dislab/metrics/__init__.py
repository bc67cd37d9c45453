"""Disentanglement metrics, one module each (disentanglement_lib's layout).

Every metric takes the dataset's ground-truth interface (``factor_sizes``, ``sample_factors(n, rng)``), a
representation function mapping factor classes ``(n, K)`` to codes ``(n, d)`` (the encoder mean of the images
those factors draw), a seeded ``numpy.random.Generator`` and its sizes. The same inputs give the same number.
"""
