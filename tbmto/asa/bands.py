"""TB-LMTO bands, Fermi level with Fermi–Dirac smearing, and ASA partial-DOS moments.

Bands per spin are the eigenvalues of the orthogonal Hamiltonian H = C + √Δ S^γ √Δ
(:func:`tbmto.lmto.hamiltonian.orthogonal_hamiltonian`) on a full shifted Monkhorst–Pack mesh
(no point-group reduction), of which only one k of each (k, −k) pair is diagonalised (time
reversal; no SOC in the self-consistency).
With u_{n,Lk} the eigenvector components, f the Fermi–Dirac occupations and w_k the k weights
(Σ w_k = 1), the moments of the partial DOS of atom R, channel l and spin σ are

    m_p(R l σ) = Σ_k w_k Σ_n f((ε_nk − μ)/kT) (ε_nk − E_ν,Rlσ)^p Σ_{m} |u_{n,Rlm,k}|²,  p = 0, 1, 2,

(in the orthogonal representation the eigenvector weights are the partial charges), and the
Fermi level μ solves Σ_σ Σ_k w_k Σ_n f = N_valence (bisection until the bracket is < 1e−13 Ry).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ..lmto.hamiltonian import orthogonal_hamiltonian
from ..lmto.structure_constants import bloch_salpha

_L9 = np.array([0, 1, 1, 1, 2, 2, 2, 2, 2])


def mp_fractional(n) -> np.ndarray:
    """Full shifted Monkhorst–Pack mesh in fractional coordinates, (i + ½)/n_j − ½.

    ``n`` is an integer (n × n × n) or three integers (n₁ × n₂ × n₃, one per reciprocal vector).
    Γ is excluded along every even n_j; the mesh is symmetric under k → −k.
    """
    dims = (n, n, n) if np.ndim(n) == 0 else tuple(n)
    if len(dims) != 3 or any(int(d) != d or d < 1 for d in dims):
        raise ValueError(f"kmesh must be a positive integer or three of them, got {n!r}")
    axes = [(np.arange(int(d)) + 0.5) / int(d) - 0.5 for d in dims]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)


def time_reversal_reduce(frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep one k of each (k, −k) pair of a mesh in fractional coordinates.

    Without spin–orbit coupling H(−k) = H(k)*, so bands and partial weights |u|² at −k equal
    those at k. Returns the kept fractional points and their weights (pairs count twice,
    self-conjugate points once), normalised to Σ = 1.
    """
    key = np.round(np.mod(frac, 1.0) * 1e8).astype(np.int64) % 100000000
    neg = np.round(np.mod(-frac, 1.0) * 1e8).astype(np.int64) % 100000000
    index = {tuple(k): i for i, k in enumerate(key)}
    keep, weight = [], []
    seen = set()
    for i, k in enumerate(key):
        if i in seen:
            continue
        j = index.get(tuple(neg[i]))
        seen.add(i)
        if j is not None and j != i:
            seen.add(j)
            keep.append(i)
            weight.append(2.0)
        else:
            keep.append(i)
            weight.append(1.0)
    w = np.array(weight)
    return frac[keep], w / w.sum()


def structure_constants_k(cell: np.ndarray, positions: np.ndarray, w_angstrom: float,
                          n_k) -> tuple[np.ndarray, np.ndarray]:
    """S^α(k) (nk, 9nb, 9nb) on the shifted mesh ``n_k`` (an integer for n_k³, or three
    divisions; :func:`mp_fractional`) reduced by time reversal, and the weights."""
    frac, wk = time_reversal_reduce(mp_fractional(n_k))
    recip = 2.0 * np.pi * np.linalg.inv(np.asarray(cell, float)).T
    s = bloch_salpha(np.asarray(cell, float), np.asarray(positions, float), frac @ recip,
                     w_angstrom)
    return s, wk


def fermi_function(e: np.ndarray, mu: float, kT: float) -> np.ndarray:
    """Fermi–Dirac occupation 1/(1 + exp((e − μ)/kT))."""
    return expit(-(np.asarray(e) - mu) / kT)


def fermi_level(eigs: np.ndarray, weights: np.ndarray, n_electrons: float, kT: float) -> float:
    """Chemical potential μ (Ry) with Σ_σ Σ_k w_k Σ_n f(ε_σkn) = n_electrons.

    Parameters
    ----------
    eigs : ndarray (nspin, nk, nband)
        Band energies (Ry); one electron per state and spin.
    weights : ndarray (nk,)
        k weights summing to one.
    n_electrons : float
    kT : float
        Smearing (Ry), > 0.
    """
    if kT <= 0:
        raise ValueError(f"smearing must be positive (Ry), got {kT!r}")
    nmax = eigs.shape[0] * eigs.shape[2]
    if not 0 < n_electrons < nmax:
        raise ValueError(f"n_electrons must lie in (0, {nmax}), got {n_electrons!r}")
    lo, hi = eigs.min() - 20 * kT, eigs.max() + 20 * kT

    def count(mu):
        return float(np.einsum("k,skn->", weights, fermi_function(eigs, mu, kT)))

    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if count(mid) < n_electrons:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return 0.5 * (lo + hi)


def diagonalise(salpha_k: np.ndarray, C: np.ndarray, sqrt_delta: np.ndarray,
                gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (2, nk, nb·9) and partial weights per (atom, l) (2, nk, nb, 3, nb·9).

    C, sqrt_delta, gamma have shape (nb, 2, 3): per site, spin (↑, ↓), l.
    """
    nb = C.shape[0]
    eigs, wts = [], []
    for sp in range(2):
        h = orthogonal_hamiltonian(salpha_k, C[:, sp], sqrt_delta[:, sp], gamma[:, sp])
        e, u = np.linalg.eigh(h)
        w = (np.abs(u) ** 2).reshape(u.shape[0], nb, 9, -1)
        wl = np.stack([w[:, :, _L9 == lq].sum(axis=2) for lq in range(3)], axis=2)
        eigs.append(e)
        wts.append(wl)
    return np.stack(eigs), np.stack(wts)


def band_moments(eigs: np.ndarray, partial: np.ndarray, weights: np.ndarray, mu: float,
                 kT: float, e_nu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moments m0, m1, m2 of shape (nb, 2, 3) about E_ν (nb, 2, 3) (see module docstring)."""
    occ = fermi_function(eigs, mu, kT) * weights[None, :, None]  # (s, k, n)
    a = [np.einsum("skn,skn,skbln->bsl", occ, eigs**p, partial) for p in range(3)]
    m0 = a[0]
    m1 = a[1] - e_nu * a[0]
    m2 = a[2] - 2.0 * e_nu * a[1] + e_nu**2 * a[0]
    return m0, m1, m2
