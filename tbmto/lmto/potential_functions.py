"""On-site LMTO potential functions with spin–orbit coupling and non-collinear spins.

Two parameter forms of the on-site spin–orbit coupling are built here (the exact single-site
solution is :func:`tbmto.asa.coupled.exact_onsite_p0`).

**Orthogonal form** (:func:`onsite_p`). In the orthogonal (γ) representation, for one atom
with magnetisation direction m,

    P^γ(E) = D [U (E − C_loc) U† − ξ L·S] D,   D = U Δ_loc^(−½) U†,
    P^α(E) = P^γ [1 + (γ − α) P^γ]⁻¹,            γ → U γ_loc U†,

where C_loc, Δ_loc, γ_loc are diagonal in the local frame (spin ↑ along m, l = s, p, d),
U is the SU(2) rotation taking ẑ to m, and L·S (S = σ/2) is fixed in the lattice frame.
For any function f of a spin-diagonal local quantity with values f↑, f↓,
U f U† = ½(f↑ + f↓) 1 + ½(f↑ − f↓) m·σ, which is how the rotated matrices are built (no
gauge choice for U is needed). For scalars P^α = (E − C)/[Δ + (γ − α)(E − C)]
(Andersen & Jepsen, PRL 53, 2571 (1984); Turek et al., *Electronic Structure of Disordered
Alloys, Surfaces and Interfaces* (1997), ch. 2). To first order in ξ this adds
−ξ L·S dP^α/dE at the energy E of the transport calculation, with a spin-averaged ξ.

**Screened form** (:func:`screened_soc_terms`): ξ L·S to first order in the screened MTO
basis χ^α = φ + φ̇^α h^α at E_ν (Andersen & Jepsen 1984; Starikov et al., PRB 97, 214415
(2018), Sec. II), which turns the secular matrix K = P^α − S^α into

    K = P^α − S^α − A + (P^α − S^α) X + X† (P^α − S^α),
    A = (√Δ^α)⁻¹ ξ̂ L·S (√Δ^α)⁻¹,   X = √Δ^α ξ̂' L·S (√Δ^α)⁻¹,

with √Δ^α = √Δ [1 − (γ − α)(C − E_ν)/Δ] (so that 1/Δ^α = dP^α/dE at E_ν), ξ̂ the matrix
of ⟨φ_σ|ξ|φ_σ'⟩ and ξ̂' that of ⟨φ_σ|ξ|φ̇^α_σ'⟩, φ̇^α = φ̇ + o^α φ with
o^α = [C − E_ν − Δ/(γ − α)]⁻¹ (the energy-derivative function whose logarithmic derivative
is that of the screened tail, P⁰ = 1/α). Spin structure: in the local frame (spin along m)
the spin-diagonal blocks of ξ̂ carry ξ↑ and ξ↓ and the off-diagonal ones ½(ξ↑ + ξ↓), i.e.
ξ̂ L·S = Σ_σσ' ξ_σσ' Π_σ L·S Π_σ' with the projectors Π_↑↓ = ½(1 ± m·σ).

Spin-orbital order per atom (docs/interfaces.md): 18 = spin-major, index 9σ + L, σ = 0/1 for
↑/↓ along the GLOBAL z, L = s, p_y, p_z, p_x, d_xy, d_yz, d_z², d_xz, d_x²−y².
Energies in Ry, √Δ in Ry^½.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import sqrt

import numpy as np

from .harmonics import l_of_index
from .structure_constants import SCREENING_ALPHA, _check_alpha

__all__ = ["angular_momentum_matrices", "ls_matrix", "onsite_p", "onsite_p_dtheta",
           "screened_sqrt_delta", "screened_soc_terms", "SocTerms"]

_L9 = l_of_index(2)
_PAULI = np.array(
    [[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex
)


@lru_cache(maxsize=1)
def angular_momentum_matrices() -> np.ndarray:
    """Orbital angular momentum (L_x, L_y, L_z) in the real-harmonic basis, l ≤ 2 (ħ = 1).

    Obtained from the complex |l m⟩ matrices (L_z = m, L_± ladder) by the unitary
    T with Y_L = Σ_m T_{Lm} Y_l^m (the real harmonics of :mod:`tbmto.lmto.harmonics`): L_real = T* L_complex Tᵀ.

    Returns
    -------
    numpy.ndarray, shape (3, 9, 9), complex
        Purely imaginary, Hermitian, block diagonal in l, L² = l(l + 1).
    """
    lmat = np.zeros((3, 9, 9), dtype=complex)
    for l in range(3):
        ms = np.arange(-l, l + 1)
        n = 2 * l + 1
        lz = np.diag(ms).astype(complex)
        lp = np.zeros((n, n), dtype=complex)
        for k, mm in enumerate(ms[:-1]):
            lp[k + 1, k] = sqrt(l * (l + 1) - mm * (mm + 1))
        lx = 0.5 * (lp + lp.T)
        ly = -0.5j * (lp - lp.T)
        t = np.zeros((n, n), dtype=complex)  # rows: real m_r, columns: complex m
        for k, mr in enumerate(ms):
            mu = abs(int(mr))
            if mr == 0:
                t[k, l] = 1.0
            elif mr > 0:
                t[k, l + mu] = (-1) ** mu / sqrt(2.0)
                t[k, l - mu] = 1.0 / sqrt(2.0)
            else:
                t[k, l + mu] = (-1) ** mu / (1j * sqrt(2.0))
                t[k, l - mu] = -1.0 / (1j * sqrt(2.0))
        sl = slice(l * l, (l + 1) ** 2)
        for a, op in enumerate((lx, ly, lz)):
            lmat[a, sl, sl] = t.conj() @ op @ t.T
    lmat.real[np.abs(lmat.real) < 1e-14] = 0.0
    lmat.setflags(write=False)
    return lmat


@lru_cache(maxsize=1)
def ls_matrix() -> np.ndarray:
    """Spin–orbit operator L·S (S = σ/2) on the 18 spin-orbitals of one atom.

    Returns
    -------
    numpy.ndarray, shape (18, 18), complex
        Hermitian, index 9σ + L (spin-major, σ along the global z). Eigenvalues per l:
        +l/2 (2l + 2 times) and −(l + 1)/2 (2l times).
    """
    lmat = angular_momentum_matrices()
    ls = sum(np.kron(0.5 * _PAULI[a], lmat[a]) for a in range(3))
    ls.setflags(write=False)
    return ls


def _params(C, sqrt_delta, gamma, xi, m):
    c = np.asarray(C, dtype=float)
    if c.ndim != 3 or c.shape[1:] != (2, 3):
        raise ValueError(f"C must have shape (natoms, 2, 3), got {c.shape}")
    nat = c.shape[0]
    out = [c]
    for value, name in ((sqrt_delta, "sqrt_delta"), (gamma, "gamma")):
        v = np.asarray(value, dtype=float)
        if v.shape != (nat, 2, 3):
            raise ValueError(f"{name} must have shape ({nat}, 2, 3), got {v.shape}")
        out.append(v)
    x = np.asarray(xi, dtype=float)
    if x.shape != (nat, 3):
        raise ValueError(f"xi must have shape ({nat}, 3), got {x.shape}")
    mm = np.asarray(m, dtype=float)
    if mm.shape != (nat, 3):
        raise ValueError(f"m must have shape ({nat}, 3), got {mm.shape}")
    for v, name in zip(out + [x, mm], ("C", "sqrt_delta", "gamma", "xi", "m")):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite")
    if np.any(out[1] == 0.0):
        raise ValueError("sqrt_delta must be non-zero")
    if np.any(np.abs(np.linalg.norm(mm, axis=1) - 1.0) > 1e-6):
        raise ValueError("m must contain unit vectors")
    return out[0], out[1], out[2], x, mm


def _energy(energy) -> complex:
    e = np.asarray(energy)
    if e.ndim != 0 or not np.isfinite(e):
        raise ValueError(f"energy must be a finite scalar (Ry), got {energy!r}")
    return complex(e)


def _spin_matrix(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    """U Q_loc U† for Q_loc = diag over (σ_loc, L) from q (natoms, 2, 3), spin ↑ along m."""
    q9 = q[:, :, _L9]  # (nat, 2, 9)
    mean = 0.5 * (q9[:, 0] + q9[:, 1])
    half = 0.5 * (q9[:, 0] - q9[:, 1])
    msig = np.einsum("na,ast->nst", m, _PAULI)  # (nat, 2, 2)
    eye = np.eye(2)
    out = (
        eye[None, :, None, :, None] * mean[:, None, None, None, :]
        + msig[:, :, None, :, None] * half[:, None, None, None, :]
    ) * np.eye(9)[None, None, :, None, :]
    return out.reshape(-1, 18, 18)


def _spin_matrix_dtheta(q: np.ndarray, m: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """d/dθ of :func:`_spin_matrix` for m → R_axis(θ) m at θ = 0 (dm/dθ = axis × m)."""
    q9 = q[:, :, _L9]
    half = 0.5 * (q9[:, 0] - q9[:, 1])
    dm = np.cross(axis, m)
    dsig = np.einsum("na,ast->nst", dm, _PAULI)
    out = (
        dsig[:, :, None, :, None]
        * half[:, None, None, None, :]
        * np.eye(9)[None, None, :, None, :]
    )
    return out.reshape(-1, 18, 18)


def _right_solve(y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Y A⁻¹ for stacked matrices, via Aᵀ Xᵀ = Yᵀ."""
    return np.linalg.solve(a.transpose(0, 2, 1), y.transpose(0, 2, 1)).transpose(0, 2, 1)


def _pieces(energy, C, sqrt_delta, gamma, xi, m, alpha, soc):
    e = _energy(energy)
    c, sd, g, x, mm = _params(C, sqrt_delta, gamma, xi, m)
    a = _check_alpha(alpha)
    cmat = _spin_matrix(c, mm)
    dmat = _spin_matrix(1.0 / sd, mm)
    gmat = _spin_matrix(g - a[None, None, :], mm)
    xmat = e * np.eye(18)[None] - cmat
    if soc:
        xmat = xmat - x[:, None, _L9.tolist() * 2] * ls_matrix()[None]
    pg = dmat @ xmat @ dmat
    amat = np.eye(18)[None] + gmat @ pg
    pa = _right_solve(pg, amat)
    return c, sd, g, mm, dmat, gmat, xmat, pg, amat, pa


def onsite_p(
    energy: float | complex,
    C: np.ndarray,
    sqrt_delta: np.ndarray,
    gamma: np.ndarray,
    xi: np.ndarray,
    m: np.ndarray,
    alpha=SCREENING_ALPHA,
    soc: bool = True,
) -> np.ndarray:
    """On-site potential functions P^α(E) of non-collinear atoms with spin–orbit coupling.

    P^γ(E) = D [U (E − C_loc) U† − ξ L·S] D with D = U Δ_loc^(−½) U†, then
    P^α = P^γ [1 + (γ − α) P^γ]⁻¹ with γ rotated like C (module docstring, orthogonal form).

    Parameters
    ----------
    energy : float or complex
        Energy E in Ry (a small positive imaginary part is allowed).
    C, sqrt_delta, gamma : array_like, shape (natoms, 2, 3)
        Orthogonal-representation potential parameters (Ry, Ry^½, dimensionless) for spin
        ↑/↓ along the local m and l = s, p, d.
    xi : array_like, shape (natoms, 3)
        Spin–orbit parameters ξ_l (Ry).
    m : array_like, shape (natoms, 3)
        Unit magnetisation directions.
    alpha : sequence of 3 floats
        Screening constants of the structure constants.
    soc : bool
        Include ξ L·S.

    Returns
    -------
    numpy.ndarray, shape (natoms, 18, 18), complex
        P^α(E), index 9σ + L with σ along the global z; Hermitian for real E.
    """
    return _pieces(energy, C, sqrt_delta, gamma, xi, m, alpha, soc)[-1]


def onsite_p_dtheta(
    energy: float | complex,
    C: np.ndarray,
    sqrt_delta: np.ndarray,
    gamma: np.ndarray,
    xi: np.ndarray,
    m: np.ndarray,
    axis: np.ndarray,
    alpha=SCREENING_ALPHA,
    soc: bool = True,
) -> np.ndarray:
    """∂P^α/∂θ for a rotation of every m by angle θ about ``axis`` (at θ = 0).

    Only the spin frame rotates (L·S stays in the lattice frame): for every rotated
    quantity Q = U Q_loc U†, dQ/dθ = −i[axis·σ/2, Q] = ½(Q↑ − Q↓) (axis × m)·σ. Then
    dP^γ = dD X D + D dX D + D X dD with X = E − C − ξ L·S, dX = −dC, and, with
    A = 1 + (γ − α) P^γ,  dP^α = [dP^γ − P^α (dγ P^γ + (γ − α) dP^γ)] A⁻¹.

    Parameters
    ----------
    energy, C, sqrt_delta, gamma, xi, m, alpha, soc
        As in :func:`onsite_p`.
    axis : array_like, shape (3,) or (natoms, 3)
        Unit rotation axis (usually ⊥ m), common to all atoms or per atom.

    Returns
    -------
    numpy.ndarray, shape (natoms, 18, 18), complex
        ∂P^α/∂θ in the same basis as :func:`onsite_p` (Hermitian for real E).
    """
    c, sd, g, mm, dmat, gmat, xmat, pg, amat, pa = _pieces(
        energy, C, sqrt_delta, gamma, xi, m, alpha, soc
    )
    n = np.asarray(axis, dtype=float)
    try:
        n = np.broadcast_to(n, mm.shape)
    except ValueError as exc:
        raise ValueError(f"axis must have shape (3,) or ({mm.shape[0]}, 3), got {n.shape}") from exc
    if not np.all(np.isfinite(n)) or np.any(np.abs(np.linalg.norm(n, axis=1) - 1.0) > 1e-6):
        raise ValueError("axis must contain finite unit vectors")
    a = _check_alpha(alpha)
    dd = _spin_matrix_dtheta(1.0 / sd, mm, n)
    dc = _spin_matrix_dtheta(c, mm, n)
    dg = _spin_matrix_dtheta(g - a[None, None, :], mm, n)
    dpg = dd @ xmat @ dmat - dmat @ dc @ dmat + dmat @ xmat @ dd
    return _right_solve(dpg - pa @ (dg @ pg + gmat @ dpg), amat)


def _projectors(m: np.ndarray) -> np.ndarray:
    """Local spin projectors Π_↑↓ = ½(1 ± m·σ) ⊗ 1₉, shape (natoms, 2, 18, 18)."""
    msig = np.einsum("na,ast->nst", m, _PAULI)
    eye2 = np.eye(2)[None]
    pr = np.stack([0.5 * (eye2 + msig), 0.5 * (eye2 - msig)], axis=1)  # (nat, 2, 2, 2)
    return np.einsum("nkst,LM->nksLtM", pr, np.eye(9)).reshape(len(m), 2, 18, 18)


def _spin_pattern(values: np.ndarray, m: np.ndarray, dm: np.ndarray | None = None):
    """ξ̂ L·S = Σ_σσ' ξ_σσ' Π_σ L·S Π_σ' (and its derivative for dm/dθ = ``dm``).

    ``values`` (natoms, 2, 3): ξ↑, ξ↓ per l; the off-diagonal spin blocks carry ½(ξ↑ + ξ↓).
    """
    pr = _projectors(m)
    ls = ls_matrix()
    v9 = values[:, :, _L9]  # (nat, 2, 9)
    v18 = np.concatenate([v9, v9], axis=2)  # column index 9σ + L → L
    vbar = 0.5 * (v18[:, 0] + v18[:, 1])
    coef = [[v18[:, 0], vbar], [vbar, v18[:, 1]]]
    out = np.zeros((len(m), 18, 18), complex)
    dout = None if dm is None else np.zeros_like(out)
    if dm is not None:
        dsig = np.einsum("na,ast->nst", dm, _PAULI)
        dpr1 = 0.5 * np.einsum("nst,LM->nsLtM", dsig, np.eye(9)).reshape(len(m), 18, 18)
        dpr = np.stack([dpr1, -dpr1], axis=1)
    for a in range(2):
        for b in range(2):
            c = coef[a][b][:, None, :]  # scale the columns (L·S is block diagonal in l)
            out += (pr[:, a] @ ls @ pr[:, b]) * c
            if dm is not None:
                dout += (dpr[:, a] @ ls @ pr[:, b] + pr[:, a] @ ls @ dpr[:, b]) * c
    return out, dout


def screened_sqrt_delta(C, sqrt_delta, gamma, e_nu, alpha=SCREENING_ALPHA) -> np.ndarray:
    """√Δ^α = √Δ [1 − (γ − α)(C − E_ν)/Δ], so that 1/Δ^α = dP^α/dE at E_ν.

    Parameters
    ----------
    C, sqrt_delta, gamma, e_nu : array_like (..., 2, 3)
        Orthogonal-representation parameters and linearisation energies (Ry, Ry^½, −, Ry).
    alpha : sequence of 3 floats
        Screening constants.

    Returns
    -------
    ndarray (..., 2, 3)
        √Δ^α (Ry^½).
    """
    a = _check_alpha(alpha)
    sd = np.asarray(sqrt_delta, float)
    return sd * (1.0 - (np.asarray(gamma) - a) * (np.asarray(C) - np.asarray(e_nu)) / sd**2)


@dataclass(frozen=True)
class SocTerms:
    """On-site pieces of the screened SOC form (module docstring), per atom (natoms, 18, 18).

    Attributes
    ----------
    a : ndarray
        A = (√Δ^α)⁻¹ ξ̂ L·S (√Δ^α)⁻¹ (dimensionless, like P^α).
    x : ndarray
        X = √Δ^α ξ̂' L·S (√Δ^α)⁻¹ (dimensionless).
    da, dx : ndarray or None
        ∂A/∂θ, ∂X/∂θ for a rotation of m about ``axis`` (None without an axis).
    """

    a: np.ndarray
    x: np.ndarray
    da: np.ndarray | None = None
    dx: np.ndarray | None = None


def screened_soc_terms(C, sqrt_delta, gamma, e_nu, xi_spin, xi_dot, m, axis=None,
                       alpha=SCREENING_ALPHA) -> SocTerms:
    """A and X of the first-order screened-basis SOC form (module docstring), and ∂/∂θ.

    Parameters
    ----------
    C, sqrt_delta, gamma, e_nu : array_like (natoms, 2, 3)
        Orthogonal parameters and linearisation energies (Ry, Ry^½, −, Ry), spin ↑/↓ along
        the local m, l = s, p, d.
    xi_spin : array_like (natoms, 2, 3)
        ⟨φ_σ|ξ|φ_σ⟩ (Ry).
    xi_dot : array_like (natoms, 2, 3)
        ⟨φ_σ|ξ|φ̇_σ⟩ with φ̇ ⊥ φ (dimensionless); the o^α φ part of φ̇^α is added here.
    m : array_like (natoms, 3)
        Unit magnetisation directions.
    axis : array_like (3,) or (natoms, 3), optional
        Rotation axis for the θ derivatives.
    alpha : sequence of 3 floats
        Screening constants.

    Returns
    -------
    SocTerms
    """
    c, sd, g, x_s, mm = _params(C, sqrt_delta, gamma, np.zeros((np.shape(C)[0], 3)), m)
    e_nu = np.asarray(e_nu, float)
    xi_spin = np.asarray(xi_spin, float)
    xi_dot = np.asarray(xi_dot, float)
    for arr, name in ((e_nu, "e_nu"), (xi_spin, "xi_spin"), (xi_dot, "xi_dot")):
        if arr.shape != c.shape or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be a finite array of shape {c.shape}, got {arr.shape}")
    a = _check_alpha(alpha)
    sda = screened_sqrt_delta(c, sd, g, e_nu, a)
    o_alpha = 1.0 / (c - e_nu - sd**2 / (g - a))
    xi_dot_a = xi_dot + o_alpha * xi_spin
    dm = None
    if axis is not None:
        n = np.broadcast_to(np.asarray(axis, float), mm.shape)
        if not np.all(np.isfinite(n)) or np.any(np.abs(np.linalg.norm(n, axis=1) - 1.0) > 1e-6):
            raise ValueError("axis must contain finite unit vectors")
        dm = np.cross(n, mm)
    xi_ls, dxi_ls = _spin_pattern(xi_spin, mm, dm)
    xd_ls, dxd_ls = _spin_pattern(xi_dot_a, mm, dm)
    s_plus = _spin_matrix(sda, mm)
    s_minus = _spin_matrix(1.0 / sda, mm)
    a_mat = s_minus @ xi_ls @ s_minus
    x_mat = s_plus @ xd_ls @ s_minus
    if dm is None:
        return SocTerms(a=a_mat, x=x_mat)
    ds_plus = _spin_matrix_dtheta(sda, mm, n)
    ds_minus = _spin_matrix_dtheta(1.0 / sda, mm, n)
    da = ds_minus @ xi_ls @ s_minus + s_minus @ dxi_ls @ s_minus + s_minus @ xi_ls @ ds_minus
    dx = ds_plus @ xd_ls @ s_minus + s_plus @ dxd_ls @ s_minus + s_plus @ xd_ls @ ds_minus
    return SocTerms(a=a_mat, x=x_mat, da=da, dx=dx)
