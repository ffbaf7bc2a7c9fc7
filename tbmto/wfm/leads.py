r"""Bloch modes and self-energies of a periodic lead (model-agnostic).

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
invert ``v`` or a matrix of mode vectors. Instead (Schur-stabilised and SVD-compressed
in the spirit of Kwant's ``physics/leads.py``; derivation in :func:`lead_modes`):

* the trivial λ = 0, ∞ solutions are removed exactly by writing v = P Q† (rank r)
  and shifting the spectral parameter, leaving a 2r × 2r pencil;
* a Möbius map μ = (λ − a)/(1 − a*λ) (unit circle to unit circle, λ = 0, ∞ to finite
  points) turns that pencil into a standard matrix whose complex Schur form (several
  times faster than QZ; QZ is the fallback), blocked reorderings and triangular
  Sylvester equations give orthonormal bases of the deflating subspaces |λ| < 1
  (right-decaying evanescent) and |λ| > 1 (left-decaying) – no evanescent
  eigenvectors are needed;
* the propagating subspace (| |λ| − 1 | < ``prop_tol``) is diagonalised explicitly;
  degenerate Bloch factors are grouped and the current form is diagonalised inside
  each group, so that distinct modes carry no cross current; modes are normalised
  to unit flux, |J| = 1, with the probability current between cells j and j+1

  .. math::  J(a, b) = i\,(a_j^\dagger v\, b_{j+1} - a_{j+1}^\dagger v^\dagger b_j),
             \qquad J(u, u) = -2\,\mathrm{Im}(\lambda\, u^\dagger v u)

  (ħ = 1, cell length 1; for a 1D chain with v = −t this is 2t sin k). The sign of
  J gives the direction; ``velocity = J/|u|²`` is the group velocity dE/dk.
* the lead self-energies Σ₊ = v F₊ and Σ₋ = v† F̃₋⁻¹ (F₊: ψ_{j+1} = F₊ψ_j for
  right-going solutions; F̃₋⁻¹: ψ_{j−1} = F̃₋⁻¹ψ_j for left-going ones) follow from the
  subspace bases; they are all that :mod:`tbmto.wfm.solver` needs.

For a real lead (h, v real: time-reversal symmetric without spin) the left-going
propagating modes are chosen as the complex conjugates of the right-going ones, which
makes S = Sᵀ exactly for a real symmetric scattering region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.linalg import lapack

from tbmto.errors import LeadModeError

from .validate import check_energy, validate_lead

__all__ = ["LeadModes", "lead_modes", "current_form"]


@dataclass(frozen=True)
class LeadModes:
    """Propagating modes and self-energies of one lead at one energy.

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
    self_energy_right : numpy.ndarray
        Σ₊ = v F₊ = v g₊ v† (n × n): self-energy on a cell from the semi-infinite lead
        on its right; F₊ is the right-going Bloch matrix, ψ_{j+1} = F₊ψ_j for
        right-moving/right-decaying solutions, g₊ = (E − h − Σ₊)⁻¹ the surface Green's
        function of that semi-infinite lead.
    self_energy_left : numpy.ndarray
        Σ₋ = v† F̃₋⁻¹ = v† g₋ v (n × n): self-energy on a cell from the semi-infinite
        lead on its left; ψ_{j−1} = F̃₋⁻¹ψ_j for left-moving/left-decaying solutions
        (finite also for λ = ∞ modes).
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
    self_energy_right: np.ndarray
    self_energy_left: np.ndarray

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
        raise LeadModeError(
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


#: Eigenvalues moved together by :func:`_reorder_schur` (windows of twice this size).
_REORDER_BLOCK = 32
#: Leaf size of the recursive triangular Sylvester solver :func:`_sylvester`.
_SYLVESTER_LEAF = 64


def _reorder_schur(t, z, select, name):
    """Reorder a complex Schur form T = Z R Z† so that ``select`` comes first (in place).

    Same result as LAPACK ``ztrsen`` (job="N") up to round-off, but blocked in the
    spirit of Kressner (BIT 46, 2006): up to ``_REORDER_BLOCK`` selected eigenvalues are
    moved up through windows of twice that size; inside a window ``ztrsen`` reorders and
    accumulates the unitary U, which is then applied to the rest of R and to Z by matrix
    products. ztrsen itself applies every swap as row/column rotations to the whole of
    R and Z, which for a random order (~m²/8 swaps) costs several Schur forms.

    Returns
    -------
    tuple
        (R, Z) reordered; the leading selected block is exactly unchanged where it is
        already in place.
    """
    m = t.shape[0]
    sel = np.asarray(select, bool).copy()
    wmax = 2 * _REORDER_BLOCK

    def trsen(tri, vecs, wsel, overwrite):
        res = lapack.ztrsen(wsel.astype(np.int32), tri, vecs, job="N",
                            overwrite_t=overwrite, overwrite_q=overwrite)
        if res[-1] != 0:
            raise LeadModeError(f"{name}: Schur reordering (ztrsen) failed (info={res[-1]})")
        return res[0], res[1]

    if m <= wmax:
        return trsen(t, z, sel, True)
    top = 0
    while True:
        while top < m and sel[top]:
            top += 1
        later = np.flatnonzero(sel[top:])
        if later.size == 0:
            return t, z
        hi = top + int(later[min(_REORDER_BLOCK, later.size) - 1]) + 1
        while True:  # slide a window [lo, hi) up until the block reaches position top
            lo = max(top, hi - wmax)
            wsel = sel[lo:hi]
            k = int(wsel.sum())
            if not wsel[:k].all():
                tw, u = trsen(t[lo:hi, lo:hi], np.eye(hi - lo, dtype=complex), wsel, False)
                t[lo:hi, lo:hi] = tw
                t[lo:hi, hi:] = u.conj().T @ t[lo:hi, hi:]
                t[:lo, lo:hi] = t[:lo, lo:hi] @ u
                z[:, lo:hi] = z[:, lo:hi] @ u
                sel[lo:hi] = False
                sel[lo:lo + k] = True
            if lo == top:
                break
            hi = lo + k


def _sylvester(a, b, c, name):
    """X with A X − X B = C for upper-triangular A, B (recursive blocked ``ztrsyl``).

    ztrsyl is unblocked (level-2); halving the larger dimension until both are at most
    ``_SYLVESTER_LEAF`` moves almost all the work into matrix products.
    """
    m, k = c.shape
    if m == 0 or k == 0:
        return np.zeros((m, k), complex)
    if m <= _SYLVESTER_LEAF and k <= _SYLVESTER_LEAF:
        x, scale, info = lapack.ztrsyl(a, b, c, isgn=-1)
        if info < 0:
            raise LeadModeError(f"{name}: ztrsyl failed (info={info})")
        return x / scale
    if m >= k:  # A = ((A11 A12) (0 A22)): bottom rows first
        h = m // 2
        x2 = _sylvester(a[h:, h:], b, c[h:], name)
        x1 = _sylvester(a[:h, :h], b, c[:h] - a[:h, h:] @ x2, name)
        return np.vstack([x1, x2])
    h = k // 2  # B = ((B11 B12) (0 B22)): left columns first
    x1 = _sylvester(a, b[:h, :h], c[:, :h], name)
    x2 = _sylvester(a, b[h:, h:], c[:, h:] + x1 @ b[:h, h:], name)
    return np.hstack([x1, x2])


#: Trial parameters a of the Möbius map μ = (λ − a)/(1 − a*λ) (unit circle → unit circle).
_MOBIUS = 0.5 * np.exp(1j * (0.3 + 2.399963229728653 * np.arange(6)))
#: Below this reciprocal condition number of B − a*A the QZ fallback is used (the
#: transform costs about log10(1/rcond) digits).
_MOBIUS_RCOND = 1e-7


def _split_spectrum(s_mat, sigma, prop_tol, method, name):
    """Deflating subspaces |λ| < 1, |λ| > 1 and the propagating block of A x = λ B x.

    The pencil is the compressed one of :func:`lead_modes`, A = E₁ + σS, B = S + σE₂
    (E₁ = diag(1, 0), E₂ = diag(0, 1) in r × r blocks of the 2r × 2r matrix S).
    ``method="schur"`` maps it by a Möbius transform μ = (λ − a)/(1 − a*λ), which
    keeps the unit circle and sends λ = 0, ∞ to finite points, to the standard matrix
    T = (B − a*A)⁻¹(A − aB) and uses the complex Schur form (several times faster than
    QZ); invariant subspaces of T are deflating subspaces of the pencil. The Schur form
    is reordered to [propagating | X | Y] (:func:`_reorder_schur`, two reorderings; X
    the cheaper of the |λ| < 1, |λ| > 1 classes to move) and the bases of the X and Y
    subspaces follow from triangular Sylvester equations (:func:`_sylvester`). If no
    trial a gives a well-conditioned B − a*A, or for ``method="qz"``, the QZ form is used.

    Returns
    -------
    tuple
        (Z_in, Z_out, T_p, Z_p, lam_of): orthonormal bases of the |λ| < 1 and |λ| > 1
        subspaces, the upper-triangular restriction to the propagating subspace in the
        spectral variable s, its basis, and the map s → λ.
    """
    if method not in ("auto", "schur", "qz"):
        raise ValueError(f"method must be 'auto', 'schur' or 'qz', got {method!r}")
    m = s_mat.shape[0]
    r = m // 2
    diag_top, diag_bot = np.diag_indices(r), tuple(i + r for i in np.diag_indices(r))
    if method != "qz":
        best = (-1.0, None, None)
        for k, a in enumerate(_MOBIUS):
            # B − a*A = (1 − a*σ) S + diag(−a*, σ)
            b_mob = (1.0 - np.conj(a) * sigma) * s_mat
            b_mob[diag_top] -= np.conj(a)
            b_mob[diag_bot] += sigma
            b_norm = np.linalg.norm(b_mob, 1)
            lu = sla.lu_factor(b_mob, overwrite_a=True, check_finite=False)
            rcond = float(lapack.zgecon(lu[0], b_norm, norm="1")[0])
            if rcond > best[0]:
                best = (rcond, a, lu)
            if best[0] > 1e-2 or (k >= 2 and best[0] > 1e-5):
                break
        rcond, a, lu = best
        if rcond > _MOBIUS_RCOND:
            # A − aB = κ(B − a*A) + D with κ = (σ − a)/(1 − a*σ) and a diagonal D, so
            # T = κ + (B − a*A)⁻¹ D (one inverse from the LU instead of a 2r-column solve)
            kappa = (sigma - a) / (1.0 - np.conj(a) * sigma)
            d_diag = np.r_[np.full(r, 1.0 + kappa * np.conj(a)), np.full(r, -(a + kappa) * sigma)]
            lwork = int(lapack.zgetri_lwork(m)[0].real)
            inv, info = lapack.zgetri(lu[0], lu[1], lwork=max(lwork, 1), overwrite_lu=True)
            if info != 0:
                raise LeadModeError(f"{name}: Moebius transform failed (zgetri info={info})")
            t = inv * d_diag
            t[np.diag_indices(m)] += kappa
            tt, zz = sla.schur(t, output="complex", overwrite_a=True, check_finite=False)

            def classify(mu):
                num, den = np.abs(mu + a), np.abs(1.0 + np.conj(a) * mu)
                return num < (1.0 - prop_tol) * den, num > (1.0 + prop_tol) * den

            def unstable():
                return ValueError(f"{name}: unstable mode classification (energy too close to a band edge)")

            inside, outside = classify(np.diag(tt))
            prop = ~(inside | outside)
            n_p = int(prop.sum())
            # A reordering costs one swap per (selected, unselected-above-it) pair. Order the
            # form [prop | X | Y]: the propagating block first (its basis is then orthonormal
            # and this reordering moves only p eigenvalues), then X, whichever of the
            # |λ| < 1, |λ| > 1 classes needs fewer swaps; the X and Y subspaces follow from
            # triangular Sylvester equations (much cheaper than further reorderings).
            r1, z1 = _reorder_schur(tt, zz, prop, name)
            in1, out1 = classify(np.diag(r1))
            if np.any(in1[:n_p] | out1[:n_p]) or not np.all(in1[n_p:] | out1[n_p:]):
                raise unstable()
            rest_in = in1[n_p:]
            first_in = np.sum(np.cumsum(~rest_in)[rest_in]) <= np.sum(np.cumsum(rest_in)[~rest_in])
            first = (in1 if first_in else out1)[n_p:]
            k1 = n_p + int(first.sum())
            t_p = r1[:n_p, :n_p].copy()  # the second reordering leaves this block alone
            r2, z2 = _reorder_schur(r1, z1, np.r_[np.ones(n_p, bool), first], name)
            in2, out2 = classify(np.diag(r2)[n_p:])
            x_ok, y_ok = (in2, out2) if first_in else (out2, in2)
            if not (np.all(x_ok[: k1 - n_p]) and np.all(y_ok[k1 - n_p:])):
                raise unstable()

            def block_basis(k0, k):
                """Orthonormal basis of the invariant subspace of the diagonal block k0:k of r2.

                It is Z [X; 1] with R11 X − X R22 = −R12 (R11 the leading k0 × k0 block)."""
                if k == k0 or k0 == 0:
                    return z2[:, k0:k]
                x = _sylvester(r2[:k0, :k0], r2[k0:k, k0:k], -r2[:k0, k0:k], name)
                return sla.qr(z2[:, :k0] @ x + z2[:, k0:k], mode="economic",
                              overwrite_a=True, check_finite=False)[0]

            z_x, z_y = block_basis(n_p, k1), block_basis(k1, m)
            z_in, z_out = (z_x, z_y) if first_in else (z_y, z_x)
            return z_in, z_out, t_p, z2[:, :n_p], lambda s: (s + a) / (1.0 + np.conj(a) * s)
        if method == "schur":
            raise LeadModeError(f"{name}: no well-conditioned Moebius transform (rcond={rcond:.1e})")
    pa = sigma * s_mat
    pa[diag_top] += 1.0
    pb = s_mat.copy()
    pb[diag_bot] += sigma
    aa, bb, q, z = sla.qz(pa, pb, output="complex", check_finite=False)
    alpha, beta = np.diag(aa), np.diag(bb)
    scale = max(1.0, float(np.max(np.abs(pa))), float(np.max(np.abs(pb))))
    if np.any((np.abs(alpha) < 1e-13 * scale) & (np.abs(beta) < 1e-13 * scale)):
        raise LeadModeError(
            f"{name}: the lead pencil is singular (det(E - h - lam v - v^dagger/lam) vanishes "
            "identically); the lead cell contains a decoupled block at this energy"
        )
    inside = np.abs(alpha) < (1.0 - prop_tol) * np.abs(beta)
    outside = np.abs(alpha) > (1.0 + prop_tol) * np.abs(beta)
    prop = ~(inside | outside)
    n_in, n_out, n_p = int(inside.sum()), int(outside.sum()), int(prop.sum())
    z_in = _reorder(aa, bb, q, z, inside)[2][:, :n_in]
    z_out = _reorder(aa, bb, q, z, outside)[2][:, :n_out]
    aa_p, bb_p, z_p = _reorder(aa, bb, q, z, prop)
    t_p = sla.solve_triangular(bb_p[:n_p, :n_p], aa_p[:n_p, :n_p])
    return z_in, z_out, t_p, z_p[:, :n_p], lambda m: m


def _triangular_eigvec(t: np.ndarray, j: int) -> np.ndarray:
    """Right eigenvector (column) of upper-triangular ``t`` for its diagonal entry j."""
    p = t.shape[0]
    y = np.zeros((p, 1), complex)
    y[j, 0] = 1.0
    if j > 0:
        y[:j, 0] = sla.solve_triangular(t[:j, :j] - t[j, j] * np.eye(j), -t[:j, j])
    return y


def _propagating(v, t, z_p, to_x, lam_of, deg_tol, name):
    """Flux-normalised propagating modes from the propagating deflating subspace.

    Parameters
    ----------
    v : numpy.ndarray
        Lead hopping H_{j,j+1} (defines the current form).
    t : numpy.ndarray
        Upper-triangular p × p restriction of the (transformed) problem to the
        propagating invariant subspace, in the spectral variable s.
    z_p : numpy.ndarray
        The p Schur vectors spanning that subspace.
    to_x : callable
        Maps pencil-space vectors (columns) and a Bloch factor to stacked lead values
        x = (ψ_{j−1}; ψ_j) in orbital space.
    lam_of : callable
        Maps the spectral variable s (diagonal of ``t``) to the Bloch factor λ.

    Returns
    -------
    tuple
        (y_right, x_right, lam_right, y_left, x_left, lam_left): pencil-space vectors,
        orbital-space values and Bloch factors of the right- and left-going modes, with
        the current form diagonal and normalised to ±1 inside every degenerate group.
    """
    p = t.shape[0]
    n = v.shape[0]
    yr, xr, lr, yl, xl, ll = [], [], [], [], [], []
    if p:
        s_all = np.diag(t).copy()
        lams_all = lam_of(s_all)
        for g in _group(lams_all, deg_tol):
            lam = complex(np.mean(lams_all[g]))
            lam /= abs(lam)
            d = len(g)
            if d == 1:
                y = _triangular_eigvec(t, int(g[0]))
            else:
                _, sv, vh = sla.svd(t - complex(np.mean(s_all[g])) * np.eye(p))
                y = vh[-d:].conj().T
                if sv[-d] > 1e3 * deg_tol * max(1.0, sv[0]):
                    raise LeadModeError(
                        f"{name}: degenerate propagating Bloch factors form a Jordan block "
                        "(energy at a band edge); shift the energy slightly"
                    )
            y = z_p @ y
            x = to_x(y, lam)
            jm = current_form(v, x, x)
            jm = 0.5 * (jm + jm.conj().T)
            sig, w = np.linalg.eigh(jm)
            scale = max(1.0, float(np.max(np.abs(v)))) * np.max(np.sum(np.abs(x) ** 2, axis=0))
            if np.min(np.abs(sig)) < 1e-9 * scale:
                raise LeadModeError(
                    f"{name}: a propagating mode has zero velocity (energy at a band edge); "
                    "shift the energy slightly"
                )
            norm = 1.0 / np.sqrt(np.abs(sig))
            xm, ym = (x @ w) * norm, (y @ w) * norm
            for c in range(d):
                if sig[c] > 0:
                    yr.append(ym[:, c]), xr.append(xm[:, c]), lr.append(lam)
                else:
                    yl.append(ym[:, c]), xl.append(xm[:, c]), ll.append(lam)

    def stack(cols, rows):
        return np.array(cols).T if cols else np.zeros((rows, 0), complex)

    m = z_p.shape[0]
    return (stack(yr, m), stack(xr, 2 * n), np.array(lr, complex),
            stack(yl, m), stack(xl, 2 * n), np.array(ll, complex))


#: Deterministic trial shifts σ = e^{iφ} for the SVD-compressed pencil (golden-angle steps).
_SHIFT_PHASES = 0.7 + 2.399963229728653 * np.arange(12)
#: Number of shifts always tried (the best conditioned is kept) before accepting any.
_SHIFT_TRIALS = 4


def lead_modes(
    h: object,
    v: object,
    energy: float = 0.0,
    *,
    prop_tol: float = 1e-6,
    deg_tol: float = 1e-7,
    rank_tol: float = 1e-12,
    method: str = "auto",
    name: str = "lead",
) -> LeadModes:
    r"""Propagating modes and lead self-energies at one energy (SVD-compressed pencil).

    With the SVD v = P Q† (P, Q of size n × r, r = rank v) and a shift σ = e^{iφ}
    that is not a Bloch factor, M_σ = E − h − σv − σ*v† (Hermitian, invertible) and
    G_σ = M_σ⁻¹, the Bloch equation (E − h − λv − λ⁻¹v†)u = 0 is equivalent to the
    2r × 2r pencil for (c, d) = ((λ−σ)Q†u, (λ⁻¹−σ⁻¹)P†u)

    .. math::
       \begin{pmatrix} 1 + σA_{11} & σA_{12} \\ σA_{21} & σA_{22} \end{pmatrix}
       \begin{pmatrix} c \\ d \end{pmatrix} = λ
       \begin{pmatrix} A_{11} & A_{12} \\ A_{21} & A_{22} + σ \end{pmatrix}
       \begin{pmatrix} c \\ d \end{pmatrix},
       \quad A = \begin{pmatrix} Q^\dagger \\ P^\dagger \end{pmatrix} G_σ (P\; Q),

    with u = G_σ(Pc + Qd). The 2(n − r) trivial solutions (λ = 0 on null v†, λ = ∞ on
    null v) drop out, so a rank-deficient MTO hopping costs a 2r instead of a 2n
    eigenproblem, which is solved by a complex Schur form after a Möbius transform
    (see :func:`_split_spectrum`; QZ as fallback). From
    bases (C; D) of the right-going (|λ| < 1 and right-moving) and left-going
    deflating subspaces the self-energies follow without inverting any mode matrix:
    Σ₊ = v F₊ = −σ⁻¹ P C D⁻¹ P† and Σ₋ = v† F̃₋⁻¹ = −σ Q D C⁻¹ Q†.

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
    rank_tol : float
        Singular values of v below rank_tol · max singular value count as zero.
    method : {"auto", "schur", "qz"}
        Eigen-solver for the compressed pencil: "auto"/"schur" use a Möbius transform
        to a standard matrix and the complex Schur form (falling back to QZ for "auto"
        when that transform is ill-conditioned); "qz" uses the generalised Schur form.
    name : str
        Label used in error messages (e.g. ``"left lead"``).

    Returns
    -------
    LeadModes
        Flux-normalised modes (|J| = 1) and the self-energies Σ₊, Σ₋.

    Raises
    ------
    ValueError
        On invalid blocks.
    tbmto.errors.LeadModeError
        (a ``ValueError`` and a :class:`tbmto.errors.PhysicsError`) On a singular pencil, an
        energy at a band edge (zero velocity, Jordan block), an unequal number of right- and
        left-going modes (a lost channel), an energy at a surface resonance where a
        self-energy is undefined, or a failed LAPACK reordering.
    """
    side = name.split()[0] if name.endswith("lead") else name
    h_arr, v_arr = validate_lead(h, v, side)
    e = check_energy(energy)
    n = h_arr.shape[0]
    # SVD on the structurally non-zero rows/columns only (MTO hoppings have many zero ones)
    nz = v_arr != 0
    rows, cols = np.flatnonzero(nz.any(axis=1)), np.flatnonzero(nz.any(axis=0))
    if rows.size:
        uu, sv, vh = sla.svd(v_arr[np.ix_(rows, cols)], check_finite=False)
        r = int(np.sum(sv > rank_tol * sv[0])) if sv[0] > 0 else 0
    else:
        r = 0
    if r == 0:
        empty = np.zeros((n, 0), complex)
        none = np.zeros(0, complex)
        zero = np.zeros((n, n), complex)
        return LeadModes(h=h_arr, v=v_arr, energy=e, lam_right=none, u_right=empty,
                         vel_right=np.zeros(0), lam_left=none, u_left=empty, vel_left=np.zeros(0),
                         self_energy_right=zero, self_energy_left=zero.copy())
    root = np.sqrt(sv[:r])
    p_mat = np.zeros((n, r), complex)
    q_mat = np.zeros((n, r), complex)
    p_mat[rows] = uu[:, :r] * root
    q_mat[cols] = vh[:r].conj().T * root

    # the shift costs log10(cond M_σ) digits: take the best conditioned of a few trials
    best = (-1.0, None, None)
    e_minus_h, v_dag = e * np.eye(n) - h_arr, v_arr.conj().T
    for phase in _SHIFT_PHASES:
        sig_try = complex(np.exp(1j * phase))
        m_sig = e_minus_h - sig_try * v_arr
        m_sig -= sig_try.conjugate() * v_dag
        m_norm = np.linalg.norm(m_sig, 1)
        lu_try = sla.lu_factor(m_sig, overwrite_a=True, check_finite=False)
        rcond = float(lapack.zgecon(lu_try[0], m_norm, norm="1")[0])
        if rcond > best[0]:
            best = (rcond, sig_try, lu_try)
        if best[0] > 0.05 or (phase >= _SHIFT_PHASES[_SHIFT_TRIALS - 1] and best[0] > 1e-8):
            break
    rcond, sigma, lu = best
    if rcond <= 1e-8:
        raise LeadModeError(f"{name}: no regular shift found for the compressed lead pencil (rcond={rcond:.1e})")
    g_pq = sla.lu_solve(lu, np.hstack([p_mat, q_mat]), check_finite=False)
    g_p, g_q = g_pq[:, :r], g_pq[:, r:]
    s_mat = np.hstack([q_mat, p_mat]).conj().T @ g_pq  # A = ((A11 A12), (A21 A22))
    z_in, z_out, t_p, z_p, lam_of = _split_spectrum(s_mat, sigma, prop_tol, method, name)
    n_in, n_out = z_in.shape[1], z_out.shape[1]

    def to_x(y, lam):
        u = g_p @ y[:r] + g_q @ y[r:]
        return np.vstack([u, lam * u])

    yr, xr, lr, yl, xl, ll = _propagating(v_arr, t_p, z_p, to_x, lam_of, deg_tol, name)
    if n_in + yr.shape[1] != r or n_out + yl.shape[1] != r:
        raise LeadModeError(
            f"{name}: inconsistent mode count at energy {e!r}: {n_in} decaying + "
            f"{yr.shape[1]} right-going and {n_out} growing + {yl.shape[1]} left-going "
            f"for hopping rank {r} (energy too close to a band edge?)"
        )
    if not (np.any(h_arr.imag) or np.any(v_arr.imag)):
        # real lead: choose the left-going modes as time-reversal partners of the
        # right-going ones (same subspace, so the self-energies are unchanged)
        xl, ll = xr.conj(), lr.conj()

    def unit(y):
        return y / np.linalg.norm(y, axis=0) if y.shape[1] else y

    basis_r = np.hstack([z_in, unit(yr)])
    basis_l = np.hstack([z_out, unit(yl)])
    cd_r = _ratio(basis_r[:r], basis_r[r:], name, "right-going")  # C D^-1
    dc_l = _ratio(basis_l[r:], basis_l[:r], name, "left-going")  # D C^-1
    self_right = (-1.0 / sigma) * (p_mat @ cd_r) @ p_mat.conj().T
    self_left = -sigma * (q_mat @ dc_l) @ q_mat.conj().T

    u_r, u_l = xr[:n], xl[:n]
    vel_r = np.ones(u_r.shape[1]) / np.sum(np.abs(u_r) ** 2, axis=0)
    vel_l = -np.ones(u_l.shape[1]) / np.sum(np.abs(u_l) ** 2, axis=0)
    return LeadModes(
        h=h_arr, v=v_arr, energy=e,
        lam_right=lr, u_right=u_r, vel_right=vel_r,
        lam_left=ll, u_left=u_l, vel_left=vel_l,
        self_energy_right=self_right, self_energy_left=self_left,
    )


def _ratio(num: np.ndarray, den: np.ndarray, name: str, what: str) -> np.ndarray:
    """Return num · den⁻¹ (square), refusing a numerically singular ``den``."""
    lu, piv = sla.lu_factor(den, check_finite=False)
    rcond = lapack.zgecon(lu, np.linalg.norm(den, 1), norm="1")[0]
    if rcond < 1e-13:
        raise LeadModeError(
            f"{name}: the {what} lead self-energy is singular at this energy (rcond={rcond:.1e}); "
            "the energy coincides with a surface resonance of the lead cell choice"
        )
    return sla.lu_solve((lu, piv), num.T, trans=1, check_finite=False).T
