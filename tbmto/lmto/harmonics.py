"""Real spherical harmonics, real Gaunt coefficients and rotation matrices.

Conventions (real spherical harmonics as in Andersen & Jepsen, PRL 53, 2571 (1984)): index
L = l² + l + m, order s, p_y, p_z, p_x, d_xy, d_yz, d_z², d_xz, d_x²−y², ... with every
Cartesian form positive (p_x = +√(3/4π) x/r). In terms of the complex harmonics with the
Condon–Shortley phase, Y_{l,m>0} = √2 (−1)^m Re Y_l^m and Y_{l,m<0} = √2 (−1)^m Im Y_l^{|m|}.

Evaluation uses the phase-free associated Legendre recursion written as polynomials in
ẑ = z/r times Re/Im (x̂ + iŷ)^m, so there is no singularity at the poles.
"""

from __future__ import annotations

from functools import lru_cache
from math import factorial, pi, sqrt

import numpy as np

__all__ = [
    "n_harmonics",
    "l_of_index",
    "real_harmonics",
    "real_gaunt",
    "rotation_matrix",
    "angular_quadrature",
]


def n_harmonics(lmax: int) -> int:
    """Number of real harmonics with l ≤ lmax, (lmax + 1)²."""
    return (int(lmax) + 1) ** 2


def l_of_index(lmax: int) -> np.ndarray:
    """Angular momentum l of every index L = l² + l + m up to ``lmax`` (int array)."""
    return np.concatenate([np.full(2 * l + 1, l, dtype=int) for l in range(int(lmax) + 1)])


def _check_lmax(lmax: int, name: str = "lmax") -> int:
    if isinstance(lmax, bool) or not isinstance(lmax, (int, np.integer)) or lmax < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {lmax!r}")
    return int(lmax)


def real_harmonics(r: np.ndarray, lmax: int = 2) -> np.ndarray:
    """Real spherical harmonics Y_L(r̂) for all L with l ≤ ``lmax``.

    Parameters
    ----------
    r : array_like, shape (..., 3)
        Cartesian vectors (any length unit; only the direction r̂ = r/|r| is used). Must be
        non-zero.
    lmax : int
        Largest angular momentum.

    Returns
    -------
    numpy.ndarray, shape (..., (lmax + 1)²)
        Y_L(r̂), L = l² + l + m, orthonormal on the unit sphere, Cartesian forms positive
        (the order stated in the module docstring).

    Raises
    ------
    ValueError
        If ``r`` does not end in a length-3 axis, contains non-finite values or a zero
        vector, or ``lmax`` is not a non-negative integer.
    """
    lmax = _check_lmax(lmax)
    r = np.asarray(r, dtype=float)
    if r.ndim == 0 or r.shape[-1] != 3:
        raise ValueError(f"r must have shape (..., 3), got {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("r must be finite")
    norm = np.linalg.norm(r, axis=-1)
    if np.any(norm == 0.0):
        raise ValueError("r contains a zero vector: the direction r̂ is undefined")
    u = r / norm[..., None]
    x, y, z = u[..., 0], u[..., 1], u[..., 2]
    out = np.empty(r.shape[:-1] + (n_harmonics(lmax),))
    # (x + i y)^m = sin^m θ e^{imφ}
    cm = [np.ones_like(x)]
    sm = [np.zeros_like(x)]
    for m in range(1, lmax + 1):
        cm.append(cm[-1] * x - sm[-1] * y)
        sm.append(cm[-2] * y + sm[-1] * x)
    for m in range(lmax + 1):
        # Q_l^m(z) = P_l^m(z) / sin^m θ without the Condon-Shortley phase
        q_prev = None
        q = np.full_like(z, float(np.prod(np.arange(1, 2 * m, 2))) if m > 0 else 1.0)
        for l in range(m, lmax + 1):
            if l == m + 1:
                q_prev, q = q, (2 * m + 1) * z * q
            elif l > m + 1:
                q_prev, q = q, ((2 * l - 1) * z * q - (l + m - 1) * q_prev) / (l - m)
            norm_lm = sqrt((2 * l + 1) / (4 * pi) * factorial(l - m) / factorial(l + m))
            if m == 0:
                out[..., l * l + l] = norm_lm * q
            else:
                out[..., l * l + l + m] = sqrt(2.0) * norm_lm * q * cm[m]
                out[..., l * l + l - m] = sqrt(2.0) * norm_lm * q * sm[m]
    return out


@lru_cache(maxsize=8)
def angular_quadrature(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Product Gauss–Legendre (in cos θ) × uniform (in φ) rule on the unit sphere.

    Exact for every polynomial in (x, y, z) of total degree ≤ ``degree`` restricted to the
    sphere: n_θ = ⌊degree/2⌋ + 1 Gauss–Legendre nodes integrate cos θ-polynomials of degree
    ≤ 2n_θ − 1, and n_φ = degree + 1 equally spaced φ nodes integrate e^{imφ}, |m| ≤ degree.

    Returns
    -------
    points : numpy.ndarray, shape (n, 3)
        Unit vectors.
    weights : numpy.ndarray, shape (n,)
        Weights summing to 4π.
    """
    degree = _check_lmax(degree, "degree")
    n_theta = degree // 2 + 1
    n_phi = degree + 1
    ct, wt = np.polynomial.legendre.leggauss(n_theta)
    phi = 2 * pi * np.arange(n_phi) / n_phi
    st = np.sqrt(1.0 - ct * ct)
    pts = np.stack(
        [
            np.outer(st, np.cos(phi)),
            np.outer(st, np.sin(phi)),
            np.outer(ct, np.ones(n_phi)),
        ],
        axis=-1,
    ).reshape(-1, 3)
    w = np.outer(wt, np.full(n_phi, 2 * pi / n_phi)).reshape(-1)
    pts.setflags(write=False)
    w.setflags(write=False)
    return pts, w


@lru_cache(maxsize=8)
def _real_gaunt_cached(l1: int, l2: int, l3: int) -> np.ndarray:
    pts, w = angular_quadrature(l1 + l2 + l3)
    lm = max(l1, l2, l3)
    y = real_harmonics(pts, lm)
    g = np.einsum(
        "q,qa,qb,qc->abc",
        w,
        y[:, : n_harmonics(l1)],
        y[:, : n_harmonics(l2)],
        y[:, : n_harmonics(l3)],
        optimize=True,
    )
    g[np.abs(g) < 1e-13] = 0.0
    g.setflags(write=False)
    return g


def real_gaunt(lmax1: int, lmax2: int, lmax3: int) -> np.ndarray:
    """Real Gaunt coefficients G(L, L', L'') = ∫ Y_L Y_L' Y_L'' dΩ.

    Computed by a product quadrature that is exact for the integrand's polynomial degree
    lmax1 + lmax2 + lmax3 (see :func:`angular_quadrature`); entries below 1e−13 are set to
    exactly zero.

    Returns
    -------
    numpy.ndarray, shape ((lmax1+1)², (lmax2+1)², (lmax3+1)²)
        Read-only array (cached).
    """
    return _real_gaunt_cached(
        _check_lmax(lmax1, "lmax1"), _check_lmax(lmax2, "lmax2"), _check_lmax(lmax3, "lmax3")
    )


def rotation_matrix(rotation: np.ndarray, lmax: int = 2) -> np.ndarray:
    """Matrix D(R) of a rotation in the real-harmonic basis: Y_L(R r̂) = Σ_L' D_{LL'} Y_L'(r̂).

    Block diagonal in l and orthogonal. Computed as D_{LL'} = ∫ Y_L(R r̂) Y_L'(r̂) dΩ with an
    exact quadrature of degree 2 lmax.

    Parameters
    ----------
    rotation : array_like, shape (3, 3)
        Orthogonal matrix (proper or improper) acting on Cartesian column vectors.
    lmax : int
        Largest angular momentum.

    Returns
    -------
    numpy.ndarray, shape ((lmax+1)², (lmax+1)²)
    """
    lmax = _check_lmax(lmax)
    rot = np.asarray(rotation, dtype=float)
    if rot.shape != (3, 3) or not np.allclose(rot @ rot.T, np.eye(3), atol=1e-10):
        raise ValueError("rotation must be an orthogonal (3, 3) matrix")
    pts, w = angular_quadrature(2 * lmax)
    y = real_harmonics(pts, lmax)
    yr = real_harmonics(pts @ rot.T, lmax)
    d = np.einsum("q,qa,qb->ab", w, yr, y)
    mask = l_of_index(lmax)[:, None] != l_of_index(lmax)[None, :]
    d[mask] = 0.0
    return d
