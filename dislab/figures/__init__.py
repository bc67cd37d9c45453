"""Figures, one module per thesis figure family; every figure is saved as PNG and PDF."""
