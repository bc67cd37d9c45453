"""dislab: regenerate a thesis on disentangled VAEs on dSprites, end to end."""

__version__ = "0.1.0"
