"""Ewald Madelung matrix for point charges on a periodic lattice (atomic-sphere alloys).

For a charge-neutral set of site charges q_j (Σ q_j = 0) the electrostatic potential energy of
an electron at site i due to all other spheres (point charges at R_j + T, the term j = i, T = 0
excluded) is V_M,i = −2 Σ_j M_ij q_j in Rydberg (e² = 2), with the Ewald sum (η the splitting
parameter, Ω the cell volume, d = R_j − R_i)

    M_ij = Σ'_T erfc(η|d + T|)/|d + T| + (4π/Ω) Σ_{G≠0} e^{−G²/4η²} cos(G·d)/G² − π/(Ω η²)
           − δ_ij 2η/√π.

Lengths in bohr, M in 1/bohr.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc


def madelung_matrix(cell_bohr: np.ndarray, positions_bohr: np.ndarray,
                    tol: float = 1e-12) -> np.ndarray:
    """Ewald Madelung matrix M (nb, nb) in 1/bohr (see module docstring).

    Parameters
    ----------
    cell_bohr : ndarray (3, 3)
        Lattice vectors as rows (bohr).
    positions_bohr : ndarray (nb, 3)
        Site positions (bohr).
    tol : float
        Truncation of the real- and reciprocal-space sums.
    """
    cell = np.asarray(cell_bohr, float)
    pos = np.asarray(positions_bohr, float)
    if cell.shape != (3, 3) or abs(np.linalg.det(cell)) < 1e-12:
        raise ValueError("cell_bohr must be a non-singular (3, 3) array")
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"positions_bohr must have shape (nb, 3), got {pos.shape}")
    omega = abs(np.linalg.det(cell))
    eta = np.sqrt(np.pi) / omega ** (1.0 / 3.0)
    x = np.sqrt(-np.log(tol))
    r_cut, g_cut = x / eta, 2.0 * eta * x
    recip = 2.0 * np.pi * np.linalg.inv(cell).T
    d = pos[None, :, :] - pos[:, None, :]  # d_ij = R_j − R_i

    def lattice_points(vectors, cutoff):
        lengths = np.abs(1.0 / np.linalg.norm(np.linalg.inv(vectors).T, axis=1))
        nmax = np.ceil(cutoff / lengths).astype(int) + 1
        rng = [np.arange(-n, n + 1) for n in nmax]
        ijk = np.stack(np.meshgrid(*rng, indexing="ij"), -1).reshape(-1, 3)
        pts = ijk @ vectors
        return pts[np.linalg.norm(pts, axis=1) <= cutoff + np.abs(d).max() * 2 + 1e-9]

    t = lattice_points(cell, r_cut)
    dt = d[:, :, None, :] + t[None, None, :, :]
    dist = np.linalg.norm(dt, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        real = np.where(dist > 1e-10, erfc(eta * dist) / dist, 0.0).sum(axis=-1)
    g = lattice_points(recip, g_cut)
    g = g[np.linalg.norm(g, axis=1) > 1e-12]
    g2 = np.einsum("gi,gi->g", g, g)
    rec = (4.0 * np.pi / omega) * np.einsum("g,ijg->ij", np.exp(-g2 / (4 * eta**2)) / g2,
                                              np.cos(np.einsum("ijx,gx->ijg", d, g)))
    m = real + rec - np.pi / (omega * eta**2)
    m[np.diag_indices_from(m)] -= 2.0 * eta / np.sqrt(np.pi)
    return m
