r"""Bloch modes and Bloch matrices of a periodic lead (model-agnostic).

A lead is a semi-infinite repetition of one cell with onsite block ``h`` (n × n,
Hermitian) and inter-cell block ``v = H_{j,j+1}`` (so ``H_{j+1,j} = v†``). At energy E
the secular matrix is K = E − H and a Bloch solution ψ_j = λ^j u obeys

.. math::  (E - h)\,u - \lambda\, v\, u - \lambda^{-1} v^\dagger u = 0 .

Written for x = (ψ_{j−1}, ψ_j) this is the 2n × 2n companion pencil (Ando, PRB 44,
8017 (1991); Xia et al., PRB 73, 064420 (2006))

.. math::  \begin{pmatrix} 0 & 1 \\ -v^\dagger & E-h \end{pmatrix} x
           = \lambda \begin{pmatrix} 1 & 0 \\ 0 & v \end{pmatrix} x ,

which is regular even when ``v`` is singular or rank deficient (as for MTO principal
layers): a null vector of ``v`` gives λ = ∞, one of ``v†`` gives λ = 0. We never
invert ``v``. Instead (Schur-stabilised, as in Kwant's ``physics/leads.py``):

* one complex QZ decomposition of the pencil, then LAPACK ``tgsen`` reorderings give
  orthonormal bases of the deflating subspaces |λ| < 1 (right-decaying evanescent)
  and |λ| > 1 (left-decaying, including λ = ∞) – no evanescent eigenvectors needed;
* the propagating subspace (| |λ| − 1 | < ``prop_tol``) is diagonalised explicitly;
  degenerate Bloch factors are grouped and the current form is diagonalised inside
  each group, so that distinct modes carry no cross current; modes are normalised
  to unit flux, |J| = 1, with the probability current between cells j and j+1

  .. math::  J(a, b) = i\,(a_j^\dagger v\, b_{j+1} - a_{j+1}^\dagger v^\dagger b_j),
             \qquad J(u, u) = -2\,\mathrm{Im}(\lambda\, u^\dagger v u)

  (ħ = 1, cell length 1; for a 1D chain with v = −t this is 2t sin k). The sign of
  J gives the direction; ``velocity = J/|u|²`` is the group velocity dE/dk.
* the Bloch matrices are assembled from subspace bases X = [x_top; x_bot]:
  right-going F₊ with ψ_{j+1} = F₊ ψ_j (F₊ = X_bot X_top⁻¹ over |λ| < 1 plus the
  right-going propagating modes), and left-going F̃₋⁻¹ with ψ_{j−1} = F̃₋⁻¹ ψ_j
  (F̃₋⁻¹ = X_top X_bot⁻¹ over |λ| > 1 plus the left-going propagating modes). These
  give the surface Green's functions used by :mod:`tbmto.wfm.solver`.

For a real lead (h, v real: time-reversal symmetric without spin) the left-going
propagating modes are chosen as the complex conjugates of the right-going ones, which
makes S = Sᵀ exactly for a real symmetric scattering region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.linalg import lapack

from .validate import check_energy, validate_lead

__all__ = ["LeadModes", "lead_modes", "current_form"]


@dataclass(frozen=True)
class LeadModes:
    """Propagating modes and Bloch matrices of one lead at one energy.

    Mode vectors are the values u of ψ_j = λ^j u in the reference cell j = 0,
    flux normalised (|J(u, u)| = 1). For the left lead the reference cell is its last
    cell (coupled to slab layer 0); for the right lead it is its first cell.

    Attributes
    ----------
    h, v : numpy.ndarray
        Onsite block and hopping H_{j,j+1} (n × n) in the energy unit of the model.
    energy : float
        Energy E of K = E − H (same unit).
    lam_right, lam_left : numpy.ndarray
        Bloch factors λ = e^{ik} (|λ| = 1) of the right-/left-going propagating modes.
    u_right, u_left : numpy.ndarray
        (n, N) flux-normalised mode vectors, columns ordered like the Bloch factors.
    vel_right, vel_left : numpy.ndarray
        Group velocities dE/dk = J/|u|² (energy × cell length / ħ; > 0 right-going).
    f_right : numpy.ndarray
        Right-going Bloch matrix F₊: ψ_{j+1} = F₊ ψ_j for any solution made of
        right-going and right-decaying modes.
    finv_left : numpy.ndarray
        Left-going inverse Bloch matrix F̃₋⁻¹: ψ_{j−1} = F̃₋⁻¹ ψ_j for any solution made
        of left-going and left-decaying modes (finite even for λ = ∞ modes).
    """

    h: np.ndarray
    v: np.ndarray
    energy: float
    lam_right: np.ndarray
    u_right: np.ndarray
    vel_right: np.ndarray
    lam_left: np.ndarray
    u_left: np.ndarray
    vel_left: np.ndarray
    f_right: np.ndarray
    finv_left: np.ndarray

    @property
    def n_orbitals(self) -> int:
        """Block size n of the lead cell."""
        return self.h.shape[0]

    @property
    def n_modes(self) -> int:
        """Number N of propagating modes in each direction."""
        return self.lam_right.shape[0]

    @property
    def k_right(self) -> np.ndarray:
        """Bloch phases k = arg λ (radians per cell) of the right-going modes."""
        return np.angle(self.lam_right)

    @property
    def k_left(self) -> np.ndarray:
        """Bloch phases k = arg λ (radians per cell) of the left-going modes."""
        return np.angle(self.lam_left)


def current_form(v: np.ndarray, x_a: np.ndarray, x_b: np.ndarray) -> np.ndarray:
    r"""Matrix of the current form J(a, b) between solutions given as x = (ψ_{j−1}, ψ_j).

    Parameters
    ----------
    v : numpy.ndarray
        Hopping H_{j,j+1} (n × n).
    x_a, x_b : numpy.ndarray
        (2n, p) and (2n, q) stacked values (ψ_{j−1}; ψ_j) of the solutions.

    Returns
    -------
    numpy.ndarray
        (p, q) matrix J_ab = i (a_{j−1}† v b_j − a_j† v† b_{j−1}); Hermitian when
        ``x_a is x_b``.
    """
    n = v.shape[0]
    at, ab = x_a[:n], x_a[n:]
    bt, bb = x_b[:n], x_b[n:]
    return 1j * (at.conj().T @ (v @ bb) - ab.conj().T @ (v.conj().T @ bt))


def _reorder(aa, bb, q, z, select):
    """Reorder a complex generalised Schur form so that ``select`` comes first."""
    res = lapack.ztgsen(select.astype(np.int32), aa, bb, q, z, ijob=0)
    info = res[-1]
    if info != 0:
        raise ValueError(
            "lead mode reordering (ztgsen) failed: the lead pencil is too ill-conditioned "
            f"at this energy (info={info})"
        )
    return res[0], res[1], res[5]


def _group(lams: np.ndarray, tol: float) -> list[np.ndarray]:
    """Group indices of Bloch factors closer than ``tol`` (transitive chains)."""
    order = np.argsort(np.angle(lams), kind="stable")
    groups: list[list[int]] = []
    for idx in order:
        if groups and np.min(np.abs(lams[groups[-1]] - lams[idx])) < tol:
            groups[-1].append(int(idx))
        else:
            groups.append([int(idx)])
    # the angle wraps at ±π: merge first and last group if they touch
    if len(groups) > 1 and np.min(np.abs(lams[groups[0]][:, None] - lams[groups[-1]][None, :])) < tol:
        groups[0] = groups[-1] + groups[0]
        groups.pop()
    return [np.asarray(g) for g in groups]


def _triangular_eigvec(t: np.ndarray, j: int) -> np.ndarray:
    """Right eigenvector (column) of upper-triangular ``t`` for its diagonal entry j."""
    p = t.shape[0]
    y = np.zeros((p, 1), complex)
    y[j, 0] = 1.0
    if j > 0:
        y[:j, 0] = sla.solve_triangular(t[:j, :j] - t[j, j] * np.eye(j), -t[:j, j])
    return y


def _propagating(v, aa_p, bb_p, z_p, deg_tol, name):
    """Flux-normalised propagating modes from the propagating deflating subspace.

    Returns stacked x = (ψ_{j−1}; ψ_j) of the right- and left-going modes, their Bloch
    factors and their currents' signs handled by the caller.
    """
    p = aa_p.shape[0]
    n = v.shape[0]
    if p == 0:
        empty = np.zeros((2 * n, 0), complex)
        return empty, np.zeros(0, complex), empty, np.zeros(0, complex)
    t = sla.solve_triangular(bb_p, aa_p)  # pencil restricted to the subspace, upper triangular
    lams_all = np.diag(t).copy()
    groups = _group(lams_all, deg_tol)
    xr, lr, xl, ll = [], [], [], []
    for g in groups:
        lam = complex(np.mean(lams_all[g]))
        lam /= abs(lam)
        d = len(g)
        if d == 1:
            y = _triangular_eigvec(t, int(g[0]))
        else:
            _, s, vh = sla.svd(t - lam * np.eye(p))
            y = vh[-d:].conj().T
            if s[-d] > 1e3 * deg_tol * max(1.0, s[0]):
                raise ValueError(
                    f"{name}: degenerate propagating Bloch factors form a Jordan block "
                    "(energy at a band edge); shift the energy slightly"
                )
        x = z_p @ y
        jm = current_form(v, x, x)
        jm = 0.5 * (jm + jm.conj().T)
        sig, w = np.linalg.eigh(jm)
        scale = max(1.0, float(np.max(np.abs(v)))) * np.max(np.sum(np.abs(x) ** 2, axis=0))
        if np.min(np.abs(sig)) < 1e-9 * scale:
            raise ValueError(
                f"{name}: a propagating mode has zero velocity (energy at a band edge); "
                "shift the energy slightly"
            )
        xm = (x @ w) / np.sqrt(np.abs(sig))
        for c in range(d):
            if sig[c] > 0:
                xr.append(xm[:, c])
                lr.append(lam)
            else:
                xl.append(xm[:, c])
                ll.append(lam)
    def stack(cols):
        return np.array(cols).T if cols else np.zeros((2 * n, 0), complex)
    return stack(xr), np.array(lr, complex), stack(xl), np.array(ll, complex)


def lead_modes(
    h: object,
    v: object,
    energy: float = 0.0,
    *,
    prop_tol: float = 1e-6,
    deg_tol: float = 1e-7,
    name: str = "lead",
) -> LeadModes:
    """Propagating modes and Bloch matrices of a lead at one energy.

    Parameters
    ----------
    h : array_like
        (n, n) Hermitian onsite block of one lead cell (model energy unit, e.g. Ry).
    v : array_like
        (n, n) hopping H_{j,j+1} to the next cell in the +direction; may be singular.
    energy : float
        Real energy E in K = E − H (same unit).
    prop_tol : float
        Eigenvalues with | |λ| − 1 | < prop_tol are propagating.
    deg_tol : float
        Propagating Bloch factors closer than this are treated as degenerate and
        current-diagonalised together.
    name : str
        Label used in error messages (e.g. ``"left lead"``).

    Returns
    -------
    LeadModes
        Flux-normalised modes (|J| = 1) and the Bloch matrices F₊, F̃₋⁻¹.

    Raises
    ------
    ValueError
        On invalid blocks, a singular pencil (det(E − h − λv − v†/λ) ≡ 0), an energy at
        a band edge (zero velocity), an unequal number of right- and left-going
        modes, or an energy at a surface resonance where the Bloch matrix is singular.
    """
    side = name.split()[0] if name.endswith("lead") else name
    h_arr, v_arr = validate_lead(h, v, side)
    e = check_energy(energy)
    n = h_arr.shape[0]
    eye = np.eye(n)
    zero = np.zeros((n, n))
    a = np.block([[zero, eye], [-v_arr.conj().T, e * eye - h_arr]]).astype(complex)
    b = np.block([[eye, zero], [zero, v_arr]]).astype(complex)
    aa, bb, q, z = sla.qz(a, b, output="complex")
    alpha, beta = np.diag(aa), np.diag(bb)
    scale = max(1.0, float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    if np.any((np.abs(alpha) < 1e-13 * scale) & (np.abs(beta) < 1e-13 * scale)):
        raise ValueError(
            f"{name}: the lead pencil is singular (det(E - h - lam v - v^dagger/lam) vanishes "
            "identically); the lead cell contains a decoupled block at this energy"
        )
    inside = np.abs(alpha) < (1.0 - prop_tol) * np.abs(beta)
    outside = np.abs(alpha) > (1.0 + prop_tol) * np.abs(beta)
    prop = ~(inside | outside)

    _, _, z_in = _reorder(aa, bb, q, z, inside)
    _, _, z_out = _reorder(aa, bb, q, z, outside)
    aa_p, bb_p, z_p = _reorder(aa, bb, q, z, prop)
    n_in, n_out, n_p = int(inside.sum()), int(outside.sum()), int(prop.sum())
    z_in, z_out = z_in[:, :n_in], z_out[:, :n_out]
    xr, lr, xl, ll = _propagating(v_arr, aa_p[:n_p, :n_p], bb_p[:n_p, :n_p], z_p[:, :n_p], deg_tol, name)

    real_lead = not (np.any(h_arr.imag) or np.any(v_arr.imag))
    if real_lead and xr.shape[1] == xl.shape[1]:
        # time-reversal partner basis: left-going modes = complex conjugates of right-going
        xl, ll = xr.conj(), lr.conj()
    if n_in + xr.shape[1] != n or n_out + xl.shape[1] != n:
        raise ValueError(
            f"{name}: inconsistent mode count at energy {e!r}: {n_in} decaying + "
            f"{xr.shape[1]} right-going and {n_out} growing + {xl.shape[1]} left-going "
            f"for block size {n} (energy too close to a band edge?)"
        )

    def unit(x):
        return x / np.linalg.norm(x, axis=0) if x.shape[1] else x

    basis_r = np.hstack([z_in, unit(xr)])
    basis_l = np.hstack([z_out, unit(xl)])
    f_right = _ratio(basis_r[n:], basis_r[:n], name, "right-going")
    finv_left = _ratio(basis_l[:n], basis_l[n:], name, "left-going")

    u_r, u_l = xr[:n], xl[:n]
    vel_r = np.ones(u_r.shape[1]) / np.sum(np.abs(u_r) ** 2, axis=0)
    vel_l = -np.ones(u_l.shape[1]) / np.sum(np.abs(u_l) ** 2, axis=0)
    return LeadModes(
        h=h_arr, v=v_arr, energy=e,
        lam_right=lr, u_right=u_r, vel_right=vel_r,
        lam_left=ll, u_left=u_l, vel_left=vel_l,
        f_right=f_right, finv_left=finv_left,
    )


def _ratio(num: np.ndarray, den: np.ndarray, name: str, what: str) -> np.ndarray:
    """Return num · den⁻¹ (n × n), refusing a numerically singular ``den``."""
    lu, piv = sla.lu_factor(den, check_finite=False)
    rcond = lapack.zgecon(lu, np.linalg.norm(den, 1), norm="1")[0]
    if rcond < 1e-13:
        raise ValueError(
            f"{name}: the {what} Bloch matrix is singular at this energy (rcond={rcond:.1e}); "
            "the energy coincides with a surface resonance of the lead cell choice"
        )
    return sla.lu_solve((lu, piv), num.T, trans=1, check_finite=False).T
