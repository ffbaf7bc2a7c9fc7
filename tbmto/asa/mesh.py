"""Logarithmic radial mesh and the quadratures used on it.

The mesh is r_i = r_0 exp(i h), i = 0 … n−1, with r_{n−1} = r_max exactly. With x = ln r every
radial integral becomes ∫ f(r) dr = ∫ f(r(x)) r dx; the integrals below are done on the uniform
x grid with cubic splines (fourth order in h), never with a plain sum over f(r_i).
Lengths in bohr.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline


@dataclass(frozen=True)
class LogMesh:
    """Logarithmic radial mesh r_i = r_0 exp(i h).

    Attributes
    ----------
    r : ndarray, shape (n,)
        Radii in bohr; ``r[-1]`` is the outer radius exactly.
    h : float
        Step in x = ln r.
    """

    r: np.ndarray
    h: float

    @property
    def n(self) -> int:
        """Number of mesh points."""
        return int(self.r.size)

    @property
    def x(self) -> np.ndarray:
        """x = ln r on the mesh."""
        return np.log(self.r)

    @property
    def r_mid(self) -> np.ndarray:
        """Radii at the half-steps x_i + h/2, shape (n − 1,)."""
        return self.r[:-1] * np.exp(0.5 * self.h)

    def integrate(self, f: np.ndarray) -> np.ndarray:
        """∫_0^{r_max} f(r) dr = ∫ f r dx over the last axis (spline quadrature).

        The piece between r = 0 and r_0 is neglected (f r → 0 there for all uses here).
        """
        y = np.asarray(f) * self.r
        return CubicSpline(self.x, y, axis=-1).integrate(self.x[0], self.x[-1])

    def cumulative(self, f: np.ndarray) -> np.ndarray:
        """F(r_i) = ∫_0^{r_i} f(r) dr over the last axis, F(r_0) = 0."""
        y = np.asarray(f) * self.r
        anti = CubicSpline(self.x, y, axis=-1).antiderivative()
        vals = anti(self.x)
        return vals - vals[..., :1]

    def derivative(self, f: np.ndarray) -> np.ndarray:
        """df/dr = (df/dx)/r on the mesh (spline derivative, last axis)."""
        return CubicSpline(self.x, np.asarray(f), axis=-1)(self.x, 1) / self.r

    def at_mid(self, f: np.ndarray) -> np.ndarray:
        """Cubic-spline values of f at the half-steps (last axis), shape (..., n − 1)."""
        xm = self.x[:-1] + 0.5 * self.h
        return CubicSpline(self.x, np.asarray(f), axis=-1)(xm)


def log_mesh(r_max: float, n: int, r_min: float) -> LogMesh:
    """Build a logarithmic mesh from r_min to r_max (bohr) with n points.

    Parameters
    ----------
    r_max : float
        Outer radius (bohr), the last mesh point.
    n : int
        Number of points (≥ 50).
    r_min : float
        First radius (bohr), 0 < r_min < r_max.

    Returns
    -------
    LogMesh
    """
    if not (r_max > 0 and np.isfinite(r_max)):
        raise ValueError(f"r_max must be a positive finite radius in bohr, got {r_max!r}")
    if not 0 < r_min < r_max:
        raise ValueError(f"r_min must satisfy 0 < r_min < r_max, got r_min={r_min!r}")
    if int(n) < 50:
        raise ValueError(f"n must be at least 50 mesh points, got {n!r}")
    h = np.log(r_max / r_min) / (n - 1)
    r = r_min * np.exp(h * np.arange(n))
    r[-1] = r_max
    return LogMesh(r=r, h=float(h))
