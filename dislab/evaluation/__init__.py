"""Evaluating one trained cell: the representation, every metric, the unsupervised scores, downstream."""
