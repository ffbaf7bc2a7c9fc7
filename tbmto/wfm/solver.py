r"""Scattering matrix of lead | slab | lead by wave-function matching and block RGF.

Conventions (see :mod:`tbmto.wfm.leads`): K = E − H, H_{j,j+1} = v, H_{j+1,j} = v†.
The left lead's last cell (cell 0, modes referenced there) couples to slab layer 0 via
``v_slab[0]``; slab layer M−1 couples to the right lead's first cell (cell 1) via
``v_slab[M]``.

Lead elimination (Ando 1991; Khomyakov et al., PRB 72, 035450 (2005)). With the lead
self-energies of :class:`~tbmto.wfm.leads.LeadModes`, Σ₋ = v_L† F̃_{L−}⁻¹ (left lead,
from the cells further left) and Σ₊ = v_R F_{R+} (right lead), the retarded surface
Green's functions of the two leads and their self-energies on the slab are

.. math::
   g_L = (E - h_L - v_L^\dagger \tilde F_{L-}^{-1})^{-1},\quad
   \Sigma_L = v_0^\dagger g_L v_0,\qquad
   g_R = (E - h_R - v_R F_{R+})^{-1},\quad
   \Sigma_R = v_M g_R v_M^\dagger .

An incoming left mode (λ_n, u_n) acts as a source s_n = v_L†(λ_n⁻¹ − F̃_{L−}⁻¹) u_n on
the left lead cell, i.e. a_n = v_0† g_L s_n on slab layer 0; an incoming right mode
gives s'_n = v_R(λ_n − F_{R+}) u_n and a'_n = v_M g_R s'_n on layer M−1. Outgoing
amplitudes are read off with the current form (flux-normalised modes are current
orthogonal to all other modes, evanescent ones included):
c_m = −i u_m†(λ_m v_L − v_L† F̃_{L−}⁻¹) ψ_0^out (left), c_p = i u_p†(v_R F_{R+} −
λ_p⁻¹ v_R†) ψ_1 (right). Hence

.. math::  S = S_{\rm direct} + B\, G\, A , \qquad G = (E - H_{\rm slab} - \Sigma_L - \Sigma_R)^{-1}

with A = [a_L at layer 0 | a_R at layer M−1], B = [b_L at 0 ; b_R at M−1] and the
diagonal direct terms r_dir = P_L(g_L s − u_in), r'_dir = P_R(g_R s' − u_in). The
blocks of G B and A G are obtained by a forward block-LU (left-connected RGF) sweep —
one LU of an n × n block, one n × n triangular solve and one GEMM per layer, never a
transfer-matrix product. When a coupling v_{i+1} has zero rows R (an MTO principal
layer couples to the next one through its last atomic layer only), only the block
g^L_i[R, R] is formed (|R| right-hand sides), and the GEMMs shrink to the non-zero
rows/columns. For θ entering the slab onsite blocks h_i and the couplings between slab
layers v_i = H_{i−1,i} (1 ≤ i ≤ M−1), dK = −dH, so (Fisher–Lee / Dyson)

.. math::  \partial_\theta S = B\,G\,\partial_\theta H\,G\,A
           = \sum_{i=0}^{M-1} \Phi_i\, \partial_\theta h_i\, \Psi_i
           + \sum_{i=1}^{M-1} \bigl(\Phi_{i-1}\, \partial_\theta v_i\, \Psi_i
           + \Phi_i\, \partial_\theta v_i^\dagger\, \Psi_{i-1}\bigr),

with the scattering states Ψ_i = (G A)_i and adjoint states Φ_i = (B G)_i obtained by a
backward substitution with the stored factors (O(n²) memory per layer; the coupling
terms use the states of two neighbouring layers, available in the same sweep). The
lead couplings v_0, v_M and the leads themselves must not depend on θ (they enter
Σ_L, Σ_R, A and B).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .leads import LeadModes, lead_modes
from .validate import check_energy, validate_dv_slab, validate_lead, validate_slab

__all__ = ["SMatrixResult", "smatrix", "smatrix_from_modes", "UNITARITY_WARN"]

#: max|S†S − 1| above which a RuntimeWarning is issued (a channel lost to a wrong
#: propagating/evanescent classification, or a numerically singular slab).
UNITARITY_WARN = 1e-6


@dataclass(frozen=True)
class SMatrixResult:
    """Scattering matrix of a two-terminal lead | slab | lead system at one energy.

    Rows are outgoing and columns incoming flux-normalised propagating modes, both
    ordered [left-lead modes, right-lead modes]; S is unitary (dimensionless).

    Attributes
    ----------
    S : numpy.ndarray
        (n_left + n_right) square scattering matrix.
    n_left, n_right : int
        Number of propagating channels in the left / right lead.
    left, right : LeadModes
        Lead modes. Left lead: incoming = ``left.u_right`` (right-going), outgoing =
        ``left.u_left``. Right lead: incoming = ``right.u_left``, outgoing = ``right.u_right``.
    energy : float
        Energy E of K = E − H (model unit).
    dS : numpy.ndarray or None
        ∂S/∂θ (same shape as S) when ``dh_slab`` and/or ``dv_slab`` was given.
    """

    S: np.ndarray
    n_left: int
    n_right: int
    left: LeadModes
    right: LeadModes
    energy: float
    dS: np.ndarray | None = None

    @property
    def r(self) -> np.ndarray:
        """Reflection matrix of the left lead, left ← left (n_left × n_left)."""
        return self.S[: self.n_left, : self.n_left]

    @property
    def t(self) -> np.ndarray:
        """Transmission matrix right ← left (n_right × n_left)."""
        return self.S[self.n_left :, : self.n_left]

    @property
    def r_prime(self) -> np.ndarray:
        """Reflection matrix of the right lead, right ← right (n_right × n_right)."""
        return self.S[self.n_left :, self.n_left :]

    @property
    def t_prime(self) -> np.ndarray:
        """Transmission matrix left ← right (n_left × n_right)."""
        return self.S[: self.n_left, self.n_left :]

    def transmission(self) -> float:
        """Landauer transmission T = Tr t†t (conductance in units of e²/h)."""
        return float(np.sum(np.abs(self.t) ** 2))

    def damping_trace(self) -> float:
        """Re Tr(∂S†/∂θ ∂S/∂θ) (seed Eq. 66/69; dimensionless per rad²).

        Raises
        ------
        ValueError
            If the result was computed without ``dh_slab`` or ``dv_slab``.
        """
        if self.dS is None:
            raise ValueError("damping_trace() needs dS: call smatrix(..., dh_slab=... and/or dv_slab=...)")
        return float(np.sum(np.abs(self.dS) ** 2))

    def unitarity_error(self) -> float:
        """max |S†S − 1| (a check of current conservation)."""
        nt = self.S.shape[0]
        return float(np.max(np.abs(self.S.conj().T @ self.S - np.eye(nt)), initial=0.0))


def _solve(lu, b: np.ndarray, trans: int = 0) -> np.ndarray:
    """lu_solve that accepts zero right-hand sides."""
    if b.shape[1] == 0:
        return np.zeros((lu[0].shape[0], 0), complex)
    return sla.lu_solve(lu, b, trans=trans, check_finite=False)


def _lead_terms(left: LeadModes, right: LeadModes, v0: np.ndarray, vm: np.ndarray, e: float):
    """Self-energies, sources, projections and direct reflections of both leads."""
    hl, vl = left.h, left.v
    nl = hl.shape[0]
    sig_l = left.self_energy_left  # v_L^† F~_L^-1
    lu_l = sla.lu_factor(e * np.eye(nl) - hl - sig_l, check_finite=False)
    u_in, l_in = left.u_right, left.lam_right
    s_l = vl.conj().T @ (u_in / l_in[None, :]) - sig_l @ u_in
    gs_l = _solve(lu_l, s_l)
    a_l = v0.conj().T @ gs_l
    u_out, l_out = left.u_left, left.lam_left
    p_l = -1j * (l_out[:, None] * (u_out.conj().T @ vl) - u_out.conj().T @ sig_l)
    b_l = _solve(lu_l, p_l.T, trans=1).T @ v0
    r_dir = p_l @ (gs_l - u_in)
    sigma_l = v0.conj().T @ _solve(lu_l, v0)

    hr, vr = right.h, right.v
    nr = hr.shape[0]
    sig_r = right.self_energy_right  # v_R F_R+
    lu_r = sla.lu_factor(e * np.eye(nr) - hr - sig_r, check_finite=False)
    u_in_r, l_in_r = right.u_left, right.lam_left
    s_r = vr @ (u_in_r * l_in_r[None, :]) - sig_r @ u_in_r
    gs_r = _solve(lu_r, s_r)
    a_r = vm @ gs_r
    u_out_r, l_out_r = right.u_right, right.lam_right
    p_r = 1j * (u_out_r.conj().T @ sig_r - (1.0 / l_out_r)[:, None] * (u_out_r.conj().T @ vr.conj().T))
    b_r = _solve(lu_r, p_r.T, trans=1).T @ vm.conj().T
    rp_dir = p_r @ (gs_r - u_in_r)
    sigma_r = vm @ _solve(lu_r, vm.conj().T)
    return sigma_l, sigma_r, a_l, a_r, b_l, b_r, r_dir, rp_dir


def smatrix_from_modes(
    left: LeadModes,
    right: LeadModes,
    h_slab: Sequence[object],
    v_slab: Sequence[object],
    dh_slab: Sequence[object] | None = None,
    dv_slab: Sequence[object | None] | None = None,
) -> SMatrixResult:
    """S-matrix for given lead modes (lower-level form of :func:`smatrix`).

    Use this to reuse lead modes across slabs (e.g. many disorder configurations) or to
    impose a particular mode basis (e.g. time-reversal partners). The energy is taken
    from the leads, which must agree.

    Parameters
    ----------
    left, right : LeadModes
        Modes of the left and right lead from :func:`~tbmto.wfm.leads.lead_modes`.
    h_slab, v_slab, dh_slab, dv_slab
        As in :func:`smatrix`.

    Returns
    -------
    SMatrixResult
    """
    if not isinstance(left, LeadModes):
        raise ValueError(f"left must be a LeadModes instance, got {type(left).__name__}")
    if not isinstance(right, LeadModes):
        raise ValueError(f"right must be a LeadModes instance, got {type(right).__name__}")
    if left.energy != right.energy:
        raise ValueError(f"left and right lead modes are at different energies ({left.energy} vs {right.energy})")
    e = left.energy
    h, v, dh = validate_slab(h_slab, v_slab, left.n_orbitals, right.n_orbitals, dh_slab)
    dv = validate_dv_slab(dv_slab, v)
    m = len(h)
    sigma_l, sigma_r, a_l, a_r, b_l, b_r, r_dir, rp_dir = _lead_terms(left, right, v[0], v[m], e)
    n_l, n_r = left.n_modes, right.n_modes
    if right.u_left.shape[1] != n_r or left.u_left.shape[1] != n_l:
        raise ValueError("lead modes must have equal numbers of right- and left-going modes")
    nin = n_l + n_r
    keep = dh is not None or dv is not None
    lus, ys, yts = [], [], []
    coupling_term = y_l = yt_l = None
    w_ll = np.zeros((n_l, n_l), complex)
    for i in range(m):
        ni = h[i].shape[0]
        last = i == m - 1
        a = -h[i]
        a.flat[:: ni + 1] += e
        if i == 0:
            a -= sigma_l
            rhs_l, rhs_t_l = a_l, b_l.T
        else:
            cols, corr = coupling_term  # v_i^† g^L_{i-1} v_i (on its non-zero columns)
            if cols is None:
                a -= corr
            else:
                a[np.ix_(cols, cols)] -= corr
            vd = v[i].conj().T
            rhs_l, rhs_t_l = vd @ y_l, v[i].T @ yt_l
        if last:
            a -= sigma_r
        lu = sla.lu_factor(a, overwrite_a=True, check_finite=False)
        if not last:
            # left-incoming columns only: a_R enters at layer M-1, b_R likewise
            vn = v[i + 1]
            nz = vn != 0
            rows = np.flatnonzero(nz.any(axis=1))
            if rows.size < ni:
                # structurally sparse coupling (MTO principal layers): only the block
                # g^L[R, R] on its non-zero rows R is needed, |R| right-hand sides
                cols = np.flatnonzero(nz.any(axis=0))
                unit = np.zeros((ni, rows.size), complex)
                unit[rows, np.arange(rows.size)] = 1.0
                sol = _solve(lu, np.hstack([rhs_l, unit]))
                v_rc = vn[np.ix_(rows, cols)]
                coupling_term = (cols, v_rc.conj().T @ (sol[rows, n_l:] @ v_rc))
            else:
                sol = _solve(lu, np.hstack([rhs_l, vn]))
                coupling_term = (None, vn.conj().T @ sol[:, n_l:])
            y_new = sol[:, :n_l]
            yt_new = _solve(lu, rhs_t_l, trans=1)
        else:
            y_new = _solve(lu, np.hstack([rhs_l, a_r]))
            yt_new = _solve(lu, np.hstack([rhs_t_l, b_r.T]), trans=1)
        # b_L G_00 a_L by Dyson accumulation: G^(i)_00 = G^(i-1)_00 + G_{0,i-1} v_i g^L_i v_i^† G_{i-1,0}
        if i == 0:
            w_ll = b_l @ y_new[:, :n_l]
        else:
            w_ll = w_ll + (yt_l.T @ v[i]) @ y_new[:, :n_l]
        if keep:
            lus.append(lu)
            if last:
                ys.append(y_new)
                yts.append(yt_new)
            else:
                ys.append(np.hstack([y_new, np.zeros((ni, n_r), complex)]))
                yts.append(np.hstack([yt_new, np.zeros((ni, n_r), complex)]))
        y_l, yt_l = y_new[:, :n_l], yt_new[:, :n_l]

    s = np.zeros((nin, nin), complex)
    s[:n_l, :n_l] = r_dir + w_ll
    s[n_l:, :n_l] = b_r @ y_new[:, :n_l]
    s[n_l:, n_l:] = rp_dir + b_r @ y_new[:, n_l:]
    s[:n_l, n_l:] = yt_new[:, :n_l].T @ a_r

    ds = None
    if keep:
        # backward substitution: Ψ_i = y_i + g^L_i v_{i+1} Ψ_{i+1}, Φ_i^T likewise with
        # the transposed factors; dS = Σ_i Φ_i ∂h_i Ψ_i
        #                            + Σ_{i=1}^{M-1} (Φ_{i-1} ∂v_i Ψ_i + Φ_i ∂v_i^† Ψ_{i-1})
        psi, phit = ys[m - 1], yts[m - 1]
        if dh is not None:
            ds = phit.T @ (dh[m - 1] @ psi)
        else:
            ds = np.zeros((nin, nin), complex)
        for i in range(m - 2, -1, -1):
            psi_n, phit_n = psi, phit  # layer i+1
            psi = ys[i] + _solve(lus[i], v[i + 1] @ psi_n)
            phit = yts[i] + _solve(lus[i], v[i + 1].conj() @ phit_n, trans=1)
            if dh is not None:
                ds += phit.T @ (dh[i] @ psi)
            if dv is not None and dv[i + 1] is not None:
                dvi = dv[i + 1]  # ∂H_{i,i+1}/∂θ; ∂H_{i+1,i} = dvi^†
                ds += phit.T @ (dvi @ psi_n)
                ds += phit_n.T @ (dvi.conj().T @ psi)
    result = SMatrixResult(S=s, n_left=n_l, n_right=n_r, left=left, right=right, energy=e, dS=ds)
    err = result.unitarity_error()
    if not err <= UNITARITY_WARN:
        warnings.warn(
            f"S-matrix not unitary: max|S^dagger S - 1| = {err:.2e} at energy {e!r} "
            "(energy near a lead band edge, or prop_tol too small for this model)",
            RuntimeWarning, stacklevel=2,
        )
    return result


def smatrix(
    h_left: object,
    v_left: object,
    h_slab: Sequence[object],
    v_slab: Sequence[object],
    h_right: object,
    v_right: object,
    energy: float = 0.0,
    dh_slab: Sequence[object] | None = None,
    dv_slab: Sequence[object | None] | None = None,
) -> SMatrixResult:
    r"""Scattering matrix (and ∂S/∂θ) of a lead | slab | lead system, K = E − H.

    Parameters
    ----------
    h_left, v_left : array_like
        Left lead: Hermitian onsite block (n_L × n_L) and hopping H_{j,j+1} = v_left to
        the next cell on the right (the lead runs to −∞). May be singular.
    h_slab : sequence of M ≥ 1 array_like
        Hermitian onsite blocks of the slab layers (sizes n_0 … n_{M−1}, may differ).
    v_slab : sequence of M+1 array_like
        v_slab[0] = H_{last left-lead cell, slab 0} (n_L × n_0); v_slab[i] =
        H_{slab i−1, slab i}; v_slab[M] = H_{slab M−1, first right-lead cell} (n_{M−1} × n_R).
    h_right, v_right : array_like
        Right lead onsite block and hopping H_{j,j+1} = v_right (the lead runs to +∞).
    energy : float
        Real energy E (model unit; the MTO caller passes H = S^α − P^α(E_F) at E = 0).
    dh_slab : sequence of M array_like, optional
        Hermitian ∂H/∂θ onsite blocks; if given, ∂S/∂θ is returned in ``dS``.
    dv_slab : sequence of M+1 (array_like or None), optional
        ∂v_slab[i]/∂θ = ∂H_{i−1,i}/∂θ with the shapes of ``v_slab[i]`` (None: zero),
        for θ entering the couplings between slab layers (e.g. an on-site
        transformation of S^α). Entries 0 and M (couplings to the lead cells) must be
        None or zero: the lead cells are not rotated — pad the slab with an
        unrotated buffer layer next to each lead. May be given without ``dh_slab``
        (onsite derivative zero); either one makes ``dS`` available.

    Returns
    -------
    SMatrixResult
        S over flux-normalised propagating modes ([left, right] ordering), r, t, r′, t′,
        lead modes, ``transmission()`` = Tr t†t and, with ``dh_slab`` and/or
        ``dv_slab``, ``dS`` and
        ``damping_trace()`` = Re Tr(∂S†/∂θ ∂S/∂θ) (seed Eqs. 66–69).

    Raises
    ------
    ValueError
        Naming the argument/block for non-Hermitian onsite blocks, shape mismatches,
        non-zero ``dv_slab[0]`` / ``dv_slab[M]``,
        complex energy, or energies at a lead band edge. An energy where a lead has
        no propagating modes is not an error: that lead contributes zero channels.

    Notes
    -----
    Cost per slab layer: one LU of an n × n block, one n × n triangular solve and one
    n × n GEMM (O(n³); less for couplings with zero rows/columns), memory O(n²)
    (O(M n²) when ``dh_slab`` or ``dv_slab`` is given, to store the factors for the
    backward sweep, which costs two n × n triangular solves and up to three n × n
    GEMMs per layer and no further factorisation).

    With H(θ) entering through onsite and coupling blocks, dK = −dH and
    (Fisher–Lee / Dyson, dG = G dH G)

    .. math::  \partial_\theta S = \sum_{i=0}^{M-1} \Phi_i\, \partial_\theta h_i\, \Psi_i
               + \sum_{i=1}^{M-1} \bigl(\Phi_{i-1}\, \partial_\theta v_i\, \Psi_i
               + \Phi_i\, \partial_\theta v_i^\dagger\, \Psi_{i-1}\bigr),

    Ψ = G A the scattering states and Φ = B G the adjoint states on the slab layers.
    Lead modes cost one 2r × 2r Schur decomposition per distinct lead (r = rank of
    the lead hopping);
    identical left and right leads are solved once.
    """
    e = check_energy(energy)
    hl, vl = validate_lead(h_left, v_left, "left")
    hr, vr = validate_lead(h_right, v_right, "right")
    left = lead_modes(hl, vl, e, name="left lead")
    if hl.shape == hr.shape and np.array_equal(hl, hr) and np.array_equal(vl, vr):
        right = left
    else:
        right = lead_modes(hr, vr, e, name="right lead")
    return smatrix_from_modes(left, right, h_slab, v_slab, dh_slab, dv_slab=dv_slab)
