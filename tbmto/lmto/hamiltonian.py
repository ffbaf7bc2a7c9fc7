"""Bulk orthogonal (γ-representation) LMTO Hamiltonian for band structures.

H = C + √Δ S^γ √Δ,  S^γ = S^α [1 − (γ − α) S^α]⁻¹   (Andersen & Jepsen, PRL 53, 2571 (1984);
Andersen, Jepsen & Šob, in *Electronic Band Structure and its Applications*, Springer Lecture
Notes in Physics 283 (1987)),

with C, √Δ, γ diagonal per atom and l (dimensionless S on the w scale, energies in Ry). Its
eigenvalues are the roots of det(P^α(E) − S^α(k)) = 0 with
P^α(E) = (E − C)/[Δ + (γ − α)(E − C)]. The spin–orbit variant adds the on-site
ξ_l L·S (S = σ/2) in the 18-orbital spin-major basis per atom (index 18·atom + 9σ + L,
σ quantised along the global z).
"""

from __future__ import annotations

import numpy as np

from .harmonics import l_of_index
from .potential_functions import ls_matrix
from .structure_constants import SCREENING_ALPHA, _check_alpha

__all__ = ["screening_transform", "orthogonal_hamiltonian", "orthogonal_hamiltonian_soc"]

_L9 = l_of_index(2)


def _check_salpha(salpha_k) -> tuple[np.ndarray, int]:
    s = np.asarray(salpha_k)
    if s.ndim == 2:
        s = s[None]
    if s.ndim != 3 or s.shape[1] != s.shape[2] or s.shape[1] % 9 or s.shape[1] == 0:
        raise ValueError(
            f"salpha_k must have shape (nk, 9 nb, 9 nb) or (9 nb, 9 nb), got {np.shape(salpha_k)}"
        )
    return s, s.shape[1] // 9


def _per_atom_l(value, nb: int, name: str, spin: bool = False) -> np.ndarray:
    """Broadcast a per-(atom, [spin,] l) parameter to (nb, [2,] 3) floats."""
    v = np.asarray(value, dtype=float)
    shape = (nb, 2, 3) if spin else (nb, 3)
    try:
        v = np.broadcast_to(v, shape)
    except ValueError as exc:
        raise ValueError(f"{name} must broadcast to {shape}, got shape {v.shape}") from exc
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite")
    return v


def screening_transform(salpha_k: np.ndarray, delta_screening: np.ndarray) -> np.ndarray:
    """S^β = S^α [1 − (β − α) S^α]⁻¹ for orbital-diagonal β − α.

    Parameters
    ----------
    salpha_k : numpy.ndarray, shape (nk, n, n)
        Structure constants in representation α (Hermitian).
    delta_screening : numpy.ndarray, shape (n,)
        β − α per orbital.

    Returns
    -------
    numpy.ndarray, shape (nk, n, n)
        S^β, Hermitised. Computed as S^β† = (1 − S^α δ)⁻¹ S^α by one solve.
    """
    n = salpha_k.shape[-1]
    a = np.eye(n)[None] - salpha_k * delta_screening[None, None, :]
    sb = np.linalg.solve(a, salpha_k).conj().transpose(0, 2, 1)
    return 0.5 * (sb + sb.conj().transpose(0, 2, 1))


def orthogonal_hamiltonian(
    salpha_k: np.ndarray,
    C: np.ndarray,
    sqrt_delta: np.ndarray,
    gamma: np.ndarray,
    alpha=SCREENING_ALPHA,
) -> np.ndarray:
    """Orthogonal LMTO Hamiltonian H = C + √Δ S^γ √Δ for one spin channel.

    Parameters
    ----------
    salpha_k : array_like, shape (nk, 9 nb, 9 nb) or (9 nb, 9 nb)
        Screened structure constants S^α(k) (e.g. from
        :func:`tbmto.lmto.structure_constants.bloch_salpha`).
    C : array_like, shape (nb, 3) or broadcastable
        Band centres per atom and l (s, p, d), Ry.
    sqrt_delta : array_like, shape (nb, 3)
        √Δ per atom and l, Ry^½ (w scale).
    gamma : array_like, shape (nb, 3)
        Orthogonal-representation screening constants γ per atom and l.
    alpha : sequence of 3 floats
        Screening constants of ``salpha_k``.

    Returns
    -------
    numpy.ndarray, shape (nk, 9 nb, 9 nb), complex
        Hermitian H(k) in Ry; ``numpy.linalg.eigvalsh`` gives the bands.
    """
    s, nb = _check_salpha(salpha_k)
    c = _per_atom_l(C, nb, "C")[:, _L9].reshape(-1)
    sd = _per_atom_l(sqrt_delta, nb, "sqrt_delta")[:, _L9].reshape(-1)
    g = _per_atom_l(gamma, nb, "gamma")[:, _L9].reshape(-1)
    a = _check_alpha(alpha)[_L9]
    sg = screening_transform(s, g - np.tile(a, nb))
    h = sd[None, :, None] * sg * sd[None, None, :]
    h[:, np.arange(9 * nb), np.arange(9 * nb)] += c
    return h


def orthogonal_hamiltonian_soc(
    salpha_k: np.ndarray,
    C: np.ndarray,
    sqrt_delta: np.ndarray,
    gamma: np.ndarray,
    xi: np.ndarray,
    alpha=SCREENING_ALPHA,
) -> np.ndarray:
    """Orthogonal LMTO Hamiltonian with on-site spin–orbit coupling, H_σσ' + ξ_l L·S.

    Collinear spin polarisation along the global z is allowed (parameters per spin); the
    spin–orbit term ξ_l L·S (S = σ/2, :func:`tbmto.lmto.potential_functions.ls_matrix`) is
    added in the orthogonal representation (Andersen, Jepsen & Šob 1987).

    Parameters
    ----------
    salpha_k : array_like, shape (nk, 9 nb, 9 nb)
        Screened structure constants S^α(k).
    C, sqrt_delta, gamma : array_like, shape (nb, 3) or (nb, 2, 3)
        Potential parameters (Ry, Ry^½, dimensionless), spin-independent or per spin
        (↑, ↓ along z).
    xi : array_like, shape (nb, 3)
        Spin–orbit parameters ξ_l per atom and l (s, p, d), Ry.
    alpha : sequence of 3 floats
        Screening constants of ``salpha_k``.

    Returns
    -------
    numpy.ndarray, shape (nk, 18 nb, 18 nb), complex
        Hermitian H(k) in Ry, index 18·atom + 9σ + L.
    """
    s, nb = _check_salpha(salpha_k)
    pars = []
    for value, name in ((C, "C"), (sqrt_delta, "sqrt_delta"), (gamma, "gamma")):
        v = np.asarray(value, dtype=float)
        pars.append(_per_atom_l(v[..., None, :] if v.ndim != 3 else v, nb, name, spin=True))
    x = _per_atom_l(xi, nb, "xi")
    nk = s.shape[0]
    h = np.zeros((nk, nb, 2, 9, nb, 2, 9), dtype=complex)
    for sigma in range(2):
        hs = orthogonal_hamiltonian(s, *(p[:, sigma] for p in pars), alpha=alpha)
        h[:, :, sigma, :, :, sigma, :] = hs.reshape(nk, nb, 9, nb, 9)
    ls = ls_matrix().reshape(2, 9, 2, 9)
    xi_orb = x[:, _L9]  # (nb, 9): ξ_l of the row orbital (L·S is block diagonal in l)
    idx = np.arange(nb)
    # advanced indices on axes 1 and 4 move to the front: shape (nb, nk, 2, 9, 2, 9)
    h[:, idx, :, :, idx, :, :] += xi_orb[:, None, None, :, None, None] * ls[None, None]
    return h.reshape(nk, 18 * nb, 18 * nb)
