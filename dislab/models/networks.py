"""Encoder, decoder and FactorVAE discriminator, exactly as the thesis specifies (502,005 VAE parameters)."""

from __future__ import annotations

import torch
from torch import nn

from dislab.models.layers import ConvTranspose2d

CHANNELS = 32
HIDDEN = 256


class Encoder(nn.Module):
    """4 x [Conv 4x4 stride 2, 32, ReLU] -> 512 -> 256 -> 256 -> 2 * latent (mu, log sigma^2), no activation."""

    def __init__(self, latent_dim: int):
        super().__init__()
        convs = []
        for c_in in (1, CHANNELS, CHANNELS, CHANNELS):
            convs += [nn.Conv2d(c_in, CHANNELS, 4, stride=2, padding=1), nn.ReLU()]
        self.net = nn.Sequential(
            *convs,
            nn.Flatten(),
            nn.Linear(CHANNELS * 4 * 4, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, 2 * latent_dim),
        )

    def forward(self, x):
        mu, logvar = self.net(x).chunk(2, dim=1)
        return mu, logvar


class Decoder(nn.Module):
    """latent -> 256 -> 256 -> 512 -> 32x4x4 -> 3 x [ConvT 4x4 stride 2, 32, ReLU] -> ConvT to 1 (Bernoulli logits)."""

    def __init__(self, latent_dim: int):
        super().__init__()
        deconvs = []
        for _ in range(3):
            deconvs += [ConvTranspose2d(CHANNELS, CHANNELS, 4, stride=2, padding=1), nn.ReLU()]
        self.net = nn.Sequential(
            nn.Linear(latent_dim, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, CHANNELS * 4 * 4),
            nn.ReLU(),
            nn.Unflatten(1, (CHANNELS, 4, 4)),
            *deconvs,
            ConvTranspose2d(CHANNELS, 1, 4, stride=2, padding=1),
        )

    def forward(self, z):
        return self.net(z)


class VAE(nn.Module):
    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = Encoder(latent_dim)
        self.decoder = Decoder(latent_dim)
        kaiming_init(self)

    def forward(self, x, noise):
        """Return (reconstruction logits, mu, logvar, z) with z = mu + sigma * noise."""
        mu, logvar = self.encoder(x)
        z = mu + torch.exp(0.5 * logvar) * noise
        return self.decoder(z), mu, logvar, z


class Discriminator(nn.Module):
    """FactorVAE's discriminator: layers x [Linear units, LeakyReLU] -> Linear 2 (logits of q(z) and the marginals)."""

    def __init__(self, latent_dim: int, hidden_units: int, hidden_layers: int, leaky_relu_slope: float):
        super().__init__()
        layers, width = [], latent_dim
        for _ in range(hidden_layers):
            layers += [nn.Linear(width, hidden_units), nn.LeakyReLU(leaky_relu_slope)]
            width = hidden_units
        self.net = nn.Sequential(*layers, nn.Linear(width, 2))
        kaiming_init(self)

    def forward(self, z):
        return self.net(z)


def kaiming_init(module: nn.Module) -> None:
    """Kaiming-normal weights (fan-in, ReLU gain) and zero biases for every linear and (transposed) conv layer."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
