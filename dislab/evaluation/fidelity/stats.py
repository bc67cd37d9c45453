"""The statistics behind every verdict of the fidelity page: differences of means judged by their standard error,
Spearman's ρ judged on Fisher's z, the share of variance a grouping explains. One place, so that a number and a claim
are judged the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95  # every "beyond its standard error" below is a two-sided 95 % bound
MIN_RHO_CELLS = 20  # fewest cells for a rank correlation to be judged at all
SPEARMAN_VARIANCE = 1.06  # var(atanh ρ) ≈ 1.06 / (n - 3) for Spearman's ρ (Fieller, Hartley and Pearson 1957)


def critical(df: float) -> float:
    """The two-sided 95 % critical value of Student's t with ``df`` degrees of freedom (the normal's for df = inf)."""
    if not df or math.isnan(df):
        return math.nan
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)) if math.isfinite(df) else float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Difference:
    """``estimate`` of a difference with its standard error ``se`` and degrees of freedom ``df`` (inf: normal)."""

    estimate: float
    se: float
    df: float = math.inf

    @property
    def z(self) -> float:
        """The difference in units of its standard error (inf when the error is 0 and the difference is not)."""
        if math.isnan(self.estimate) or math.isnan(self.se):
            return math.nan
        if self.se == 0:
            return 0.0 if self.estimate == 0 else math.copysign(math.inf, self.estimate)
        return self.estimate / self.se

    @property
    def bound(self) -> float:
        """How many standard errors a 95 % test asks for."""
        return critical(self.df)

    def shown(self, sign: int = 1) -> bool:
        """The difference is beyond its 95 % bound in the direction ``sign``."""
        return sign * self.z >= self.bound

    def contradicted(self, sign: int = 1) -> bool:
        """The difference is beyond its 95 % bound against the direction ``sign``."""
        return -sign * self.z >= self.bound

    def text(self, digits: int = 3) -> str:
        if math.isnan(self.se):
            return f"{self.estimate:+.{digits}g} (no standard error)"
        return f"{self.estimate:+.{digits}g} ± {self.se:.{digits}g} (SE; {self.z:+.1f} SE)"


def mean_sd_n(values) -> tuple[float, float, int]:
    values = pd.Series(values, dtype=float).dropna()
    n = len(values)
    return (float(values.mean()) if n else math.nan), (float(values.std(ddof=1)) if n > 1 else math.nan), n


def welch(a, b) -> Difference:
    """mean(a) - mean(b), its standard error from both samples' spreads and sizes, and Welch's degrees of freedom."""
    (ma, sa, na), (mb, sb, nb) = mean_sd_n(a), mean_sd_n(b)
    return welch_from(ma, sa, na, mb, sb, nb)


def welch_from(ma, sa, na, mb, sb, nb) -> Difference:
    """As ``welch``, from each side's mean, sd and count. A side's mean has the variance sd² / n; a side without an
    sd (one value, or none printed) leaves the difference without a standard error."""
    sides = [(sa, na), (sb, nb)]
    if any(n < 1 or sd is None or math.isnan(sd) for sd, n in sides):
        return Difference(ma - mb, math.nan, math.nan)
    variances = [(sd * sd / n, n) for sd, n in sides]
    total = sum(v for v, _ in variances)
    spread = sum(v * v / (n - 1) for v, n in variances if n > 1)  # a side of one value has a known, not estimated, sd
    return Difference(ma - mb, math.sqrt(total), total * total / spread if spread > 0 else math.inf)


def spearman(x, y) -> tuple[float, int]:
    """Spearman's ρ of the pairs with both values, and how many pairs."""
    pairs = pd.DataFrame({"x": list(x), "y": list(y)}).dropna()
    if len(pairs) < 3 or pairs["x"].nunique() < 2 or pairs["y"].nunique() < 2:
        return math.nan, len(pairs)
    return float(stats.spearmanr(pairs["x"], pairs["y"]).statistic), len(pairs)


def fisher_z(rho: float) -> float:
    return math.atanh(max(min(rho, 0.999999), -0.999999))


def z_se(n: int) -> float:
    """Standard error of atanh(ρ) for Spearman's ρ over ``n`` pairs."""
    return math.sqrt(SPEARMAN_VARIANCE / (n - 3)) if n > 3 else math.nan


def rho_against_zero(rho: float, n: int) -> Difference:
    """ρ judged against 0 on Fisher's z (normal)."""
    return Difference(fisher_z(rho) if not math.isnan(rho) else math.nan, z_se(n))


def rho_difference(rho_a: float, n_a: int, rho_b: float, n_b: int) -> Difference:
    """The difference of two independent ρ on Fisher's z, with both sides' errors."""
    if math.isnan(rho_a) or math.isnan(rho_b):
        return Difference(math.nan, math.nan)
    return Difference(fisher_z(rho_a) - fisher_z(rho_b), math.hypot(z_se(n_a), z_se(n_b)))


def variance_share(values, groups) -> tuple[float, float]:
    """The share of the variance of ``values`` that ``groups`` explains (η², one-way), and the F test's p-value."""
    frame = pd.DataFrame({"v": list(values), "g": list(groups)}).dropna()
    samples = [g["v"].to_numpy() for _, g in frame.groupby("g") if len(g)]
    if len(samples) < 2 or len(frame) <= len(samples):
        return math.nan, math.nan
    total = float(((frame["v"] - frame["v"].mean()) ** 2).sum())
    between = float(sum(len(s) * (s.mean() - frame["v"].mean()) ** 2 for s in samples))
    if total == 0:
        return math.nan, math.nan
    return between / total, float(stats.f_oneway(*samples).pvalue)


def bounded_below(values, bound: float) -> Difference:
    """bound - mean(values), judged by the standard error of the mean (t with n - 1 degrees of freedom): shown when
    the mean lies beyond its 95 % bound below ``bound``."""
    mean, sd, n = mean_sd_n(values)
    if n < 2 or math.isnan(sd):
        return Difference(bound - mean, math.nan, math.nan)
    return Difference(bound - mean, sd / math.sqrt(n), n - 1)


def describe(values: np.ndarray) -> str:
    mean, sd, n = mean_sd_n(values)
    return f"{mean:.3g} ± {sd:.2g} (n {n})" if n > 1 else f"{mean:.3g} (n {n})"
