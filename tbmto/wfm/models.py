"""Reference tight-binding models with known scattering properties (validation rung 1).

These build the lead and slab blocks of simple lattices in the block convention of
:func:`tbmto.wfm.smatrix` (H_{j,j+1} = v). They are used by the tests and the
benchmark; the engine itself never depends on them.

All energies are in units of the nearest-neighbour hopping t (t > 0, hopping −t).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "chain_blocks",
    "strip_blocks",
    "fold_cells",
    "spinful_strip_blocks",
    "time_reversal_operator",
    "open_channels_strip",
]

SIGMA_X = np.array([[0, 1], [1, 0]], complex)
SIGMA_Y = np.array([[0, -1j], [1j, 0]], complex)
SIGMA_Z = np.array([[1, 0], [0, -1]], complex)


def chain_blocks(t: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """1D chain, one orbital per cell: h = 0, v = −t; band E = −2t cos k."""
    return np.zeros((1, 1)), np.array([[-t]], float)


def strip_blocks(width: int, t: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Square-lattice strip of ``width`` sites (hard walls): one column per cell.

    Returns
    -------
    tuple of numpy.ndarray
        (h, v): h the open chain of ``width`` sites with hopping −t, v = −t·1.
        Transverse energies −2t cos(π m/(W+1)), m = 1…W.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    h = np.zeros((width, width))
    idx = np.arange(width - 1)
    h[idx, idx + 1] = h[idx + 1, idx] = -t
    return h, -t * np.eye(width)


def open_channels_strip(width: int, energy: float, t: float = 1.0) -> int:
    """Number of open channels of :func:`strip_blocks` at ``energy`` (|E − ε_m| < 2t)."""
    eps = -2 * t * np.cos(np.pi * np.arange(1, width + 1) / (width + 1))
    return int(np.sum(np.abs(energy - eps) < 2 * t))


def fold_cells(h: np.ndarray, v: np.ndarray, p: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Supercell of ``p`` consecutive cells: (p n × p n) onsite, rank-deficient hopping.

    The folded hopping couples only the last sub-cell to the first sub-cell of the next
    supercell, so it has rank ≤ n out of p n (a singular inter-cell block).
    """
    n = h.shape[0]
    hh = np.zeros((p * n, p * n), dtype=np.result_type(h, v))
    for a in range(p):
        hh[a * n:(a + 1) * n, a * n:(a + 1) * n] = h
        if a + 1 < p:
            hh[a * n:(a + 1) * n, (a + 1) * n:(a + 2) * n] = v
            hh[(a + 1) * n:(a + 2) * n, a * n:(a + 1) * n] = v.conj().T
    vv = np.zeros((p * n, p * n), dtype=hh.dtype)
    vv[(p - 1) * n:, :n] = v
    return hh, vv


def spinful_strip_blocks(
    width: int,
    t: float = 1.0,
    rashba: float = 0.0,
    zeeman: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Spinful square-lattice strip with Rashba SOC and a Zeeman field.

    Orbital index = 2·site + spin. Onsite: transverse bonds −t σ₀ + i α σ_x (site y to
    y+1) and the Zeeman term B·σ; longitudinal bond (H_{j,j+1}): −t σ₀ − i α σ_y. The
    Rashba terms are time-reversal even, the Zeeman term odd, so for B ≠ 0 there is no
    time-reversal symmetry.

    Parameters
    ----------
    width : int
        Number of sites across the strip.
    t, rashba : float
        Hopping and Rashba amplitude α (units of t).
    zeeman : tuple of float
        (B_x, B_y, B_z) in units of t.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    s0 = np.eye(2)
    bsig = zeeman[0] * SIGMA_X + zeeman[1] * SIGMA_Y + zeeman[2] * SIGMA_Z
    hy = -t * s0 + 1j * rashba * SIGMA_X
    chain = np.diag(np.ones(width - 1), 1)
    h = np.kron(np.eye(width), bsig) + np.kron(chain, hy) + np.kron(chain.T, hy.conj().T)
    v = np.kron(np.eye(width), -t * s0 - 1j * rashba * SIGMA_Y)
    return h, v


def time_reversal_operator(n_sites: int) -> np.ndarray:
    """Unitary part Y = 1 ⊗ iσ_y of Θ = Y K for spin-1/2 (orbital index 2·site + spin).

    Θ maps a solution of H(B) to one of H(−B) = Y H(B)* Y⁻¹.
    """
    return np.kron(np.eye(n_sites), 1j * SIGMA_Y)
