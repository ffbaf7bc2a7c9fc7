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

Nested closures (:func:`smatrix_nested`): systems that share their first layers (a trunk)
and differ only after a branch point share the forward sweep over the trunk; each is closed
from the stored left-connected state by its own tail layers and right lead, and the states Ψ,
Φ of all of them are back-propagated through the trunk together, one triangular solve with the
right-hand sides of every active system per layer (:func:`smatrix_from_modes` is the case of
one system and an empty trunk).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .leads import LeadModes, lead_modes
from .validate import (
    _sequence_length,
    as_matrix,
    check_energy,
    check_hermitian,
    check_shape,
    validate_dv_slab,
    validate_lead,
    validate_onsite_derivatives,
    validate_slab,
)

__all__ = ["SMatrixResult", "Branch", "smatrix", "smatrix_from_modes", "smatrix_nested", "UNITARITY_WARN"]

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
        ∂S/∂θ (same shape as S) when ``dh_slab`` and/or ``dv_slab`` was given (the first
        derivative of ``dS_all``).
    dS_all : tuple of numpy.ndarray or None
        ∂S/∂θ_d for every parameter d of :func:`smatrix_nested` (one entry for :func:`smatrix`).
    """

    S: np.ndarray
    n_left: int
    n_right: int
    left: LeadModes
    right: LeadModes
    energy: float
    dS: np.ndarray | None = None
    dS_all: tuple[np.ndarray, ...] | None = None

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

    def noise_trace(self) -> float:
        """Tr t†t(1 − t†t) = Σ_n τ_n(1 − τ_n) over the transmission eigenvalues τ_n of t†t.

        The zero-temperature shot-noise power of the two-terminal conductor in units of
        2e³|V|/h (Büttiker, PRL 65, 2901 (1990), Eq. 10); divided by :meth:`transmission` it is
        the Fano factor (:func:`tbmto.observables.fano_factor`). Dimensionless, between 0 (every
        channel fully open or closed) and min(T, N/4) for N incoming channels.
        """
        tt = self.t.conj().T @ self.t
        return float(np.real(np.trace(tt)) - np.sum(np.abs(tt) ** 2))

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

    def damping_tensor(self) -> np.ndarray:
        """D_ab = Re Tr(∂S†/∂θ_a ∂S/∂θ_b) over all derivatives (seed Eq. 66/69 generalised to
        the rotations about two axes ⊥ m: D_aa is :meth:`damping_trace` for axis a, D_ab the
        off-diagonal component; symmetric, dimensionless per rad²).

        Raises
        ------
        ValueError
            If the result carries no derivatives.
        """
        if self.dS_all is None:
            raise ValueError("damping_tensor() needs dS: pass derivatives to smatrix_nested or dh_slab/dv_slab to smatrix")
        d = np.stack(self.dS_all).reshape(len(self.dS_all), -1)
        return np.real(d.conj() @ d.T)

    def unitarity_error(self) -> float:
        """max |S†S − 1| (a check of current conservation)."""
        nt = self.S.shape[0]
        return float(np.max(np.abs(self.S.conj().T @ self.S - np.eye(nt)), initial=0.0))


def _solve(lu, b: np.ndarray, trans: int = 0) -> np.ndarray:
    """lu_solve that accepts zero right-hand sides."""
    if b.shape[1] == 0:
        return np.zeros((lu[0].shape[0], 0), complex)
    return sla.lu_solve(lu, b, trans=trans, check_finite=False)


@dataclass(frozen=True)
class _LeftTerms:
    """Left-lead self-energy on slab layer 0, sources a_L, projections b_L, direct r."""

    sigma: np.ndarray
    a: np.ndarray
    b: np.ndarray
    r_dir: np.ndarray


@dataclass(frozen=True)
class _RightTerms:
    """Right-lead self-energy on the last slab layer, sources a_R, projections b_R, direct r′."""

    sigma: np.ndarray
    a: np.ndarray
    b: np.ndarray
    rp_dir: np.ndarray


def _left_terms(left: LeadModes, v0: np.ndarray) -> _LeftTerms:
    """Σ_L = v_0† g_L v_0, a_L = v_0† g_L s, b_L = P_L g_L v_0, r_dir = P_L(g_L s − u_in)."""
    e, hl, vl = left.energy, left.h, left.v
    sig = left.self_energy_left  # v_L^† F~_L^-1
    lu = sla.lu_factor(e * np.eye(hl.shape[0]) - hl - sig, check_finite=False)
    u_in, l_in = left.u_right, left.lam_right
    s = vl.conj().T @ (u_in / l_in[None, :]) - sig @ u_in
    gs = _solve(lu, s)
    u_out, l_out = left.u_left, left.lam_left
    p = -1j * (l_out[:, None] * (u_out.conj().T @ vl) - u_out.conj().T @ sig)
    return _LeftTerms(sigma=v0.conj().T @ _solve(lu, v0), a=v0.conj().T @ gs,
                      b=_solve(lu, p.T, trans=1).T @ v0, r_dir=p @ (gs - u_in))


def _right_terms(right: LeadModes, vm: np.ndarray) -> _RightTerms:
    """Σ_R = v_M g_R v_M†, a_R = v_M g_R s′, b_R = P_R g_R v_M†, r′_dir = P_R(g_R s′ − u_in)."""
    e, hr, vr = right.energy, right.h, right.v
    sig = right.self_energy_right  # v_R F_R+
    lu = sla.lu_factor(e * np.eye(hr.shape[0]) - hr - sig, check_finite=False)
    u_in, l_in = right.u_left, right.lam_left
    s = vr @ (u_in * l_in[None, :]) - sig @ u_in
    gs = _solve(lu, s)
    u_out, l_out = right.u_right, right.lam_right
    p = 1j * (u_out.conj().T @ sig - (1.0 / l_out)[:, None] * (u_out.conj().T @ vr.conj().T))
    return _RightTerms(sigma=vm @ _solve(lu, vm.conj().T), a=vm @ gs,
                       b=_solve(lu, p.T, trans=1).T @ vm.conj().T, rp_dir=p @ (gs - u_in))


@dataclass(frozen=True)
class _Coupling:
    """A coupling block v (H between two consecutive layers) and its structural sparsity."""

    v: np.ndarray
    rows: np.ndarray  # non-zero rows R
    cols: np.ndarray | None  # non-zero columns C (None: v has no zero row)
    v_rc: np.ndarray | None  # v[R, C]

    @classmethod
    def of(cls, v: np.ndarray) -> "_Coupling":
        nz = v != 0
        rows = np.flatnonzero(nz.any(axis=1))
        if rows.size == v.shape[0]:
            return cls(v, rows, None, None)
        cols = np.flatnonzero(nz.any(axis=0))
        return cls(v, rows, cols, v[np.ix_(rows, cols)])

    @property
    def key(self):
        """Cache key of g·(this coupling) on the previous layer: g[R, R] depends only on the
        rows R; for a dense coupling the product g v is cached per block."""
        return ("rows", self.rows.tobytes()) if self.cols is not None else ("dense", id(self.v))


@dataclass
class _Layer:
    """Left-connected state after one layer: LU of E − h − Σ, y = g·rhs (left sources),
    yt = gᵀ·rhs_t (left projections), w = b_L G_00 a_L so far, and per coupling v out of this
    layer asked for so far ``gv[key]`` = g[:, R] on its non-zero rows R (g v for a dense v):
    the self-energy on the next layer and the backward propagation Ψ_i = y_i + g v Ψ_{i+1}
    both use it, so the latter is a GEMM, not a triangular solve."""

    lu: tuple
    y: np.ndarray
    yt: np.ndarray
    w: np.ndarray
    gv: dict


def _g_times(prev: _Layer, c: _Coupling) -> np.ndarray:
    """g_prev[:, R] (sparse coupling) or g_prev v (dense), computed once per coupling."""
    g = prev.gv.get(c.key)
    if g is None:
        if c.cols is None:
            g = _solve(prev.lu, c.v)
        else:
            unit = np.zeros((prev.lu[0].shape[0], c.rows.size), complex)
            unit[c.rows, np.arange(c.rows.size)] = 1.0
            g = _solve(prev.lu, unit)
        prev.gv[c.key] = g
    return g


def _sigma_from(prev: _Layer, c: _Coupling) -> tuple[np.ndarray | None, np.ndarray]:
    """(columns, v† g_prev v on those columns) — the self-energy of the left part on the next layer."""
    g = _g_times(prev, c)
    if c.cols is None:
        return None, c.v.conj().T @ g
    return c.cols, c.v_rc.conj().T @ (g[c.rows] @ c.v_rc)


def _back(prev: _Layer, c: _Coupling, psi_n: np.ndarray, phit_n: np.ndarray, n_l: int, widths) -> tuple:
    """Ψ, Φᵀ on layer ``prev`` from those on the next layer (coupled by ``c``):
    Ψ_i = y_i + g_i v Ψ_{i+1}, Φᵀ_i = ytᵢ + g_iᵀ v* Φᵀ_{i+1}; the left-incoming states y, yt are
    added to the first n_L columns of every block of ``widths`` columns (one block per system)."""
    g = _g_times(prev, c)
    if c.cols is None:
        psi = g @ psi_n
        rhs = c.v.conj() @ phit_n
    else:
        psi = g @ (c.v_rc @ psi_n[c.cols])
        rhs = np.zeros((prev.lu[0].shape[0], phit_n.shape[1]), complex)
        rhs[c.rows] = c.v_rc.conj() @ phit_n[c.cols]
    phit = _solve(prev.lu, rhs, trans=1)
    off = 0
    for w in widths:
        psi[:, off:off + n_l] += prev.y[:, :n_l]
        phit[:, off:off + n_l] += prev.yt[:, :n_l]
        off += w
    return psi, phit


def _step(e: float, h: np.ndarray, prev: _Layer | None, c: _Coupling | None, left: _LeftTerms,
          next_coupling: _Coupling | None = None, right: _RightTerms | None = None) -> _Layer:
    """Left-connected RGF step onto layer ``h`` (coupled to ``prev`` through ``c``; the first
    layer couples to the left lead). With ``right`` the layer is the last one: −Σ_R enters
    and the right sources/projections are appended to y, yt. ``next_coupling`` lets g[:, R]
    for the next coupling come out of the same triangular solve."""
    n = h.shape[0]
    n_l = left.a.shape[1]
    a = -h
    a.flat[:: n + 1] += e
    if prev is None:
        a -= left.sigma
        rhs, rhs_t = left.a, left.b.T
    else:
        cols, corr = _sigma_from(prev, c)
        if cols is None:
            a -= corr
        else:
            a[np.ix_(cols, cols)] -= corr
        rhs, rhs_t = c.v.conj().T @ prev.y[:, :n_l], c.v.T @ prev.yt[:, :n_l]
    if right is not None:
        a -= right.sigma
        rhs, rhs_t = np.hstack([rhs, right.a]), np.hstack([rhs_t, right.b.T])
    lu = sla.lu_factor(a, overwrite_a=True, check_finite=False)
    gv = {}
    if next_coupling is not None:
        nc = next_coupling
        if nc.cols is not None:
            extra = np.zeros((n, nc.rows.size), complex)
            extra[nc.rows, np.arange(nc.rows.size)] = 1.0
        else:
            extra = nc.v
        sol = _solve(lu, np.hstack([rhs, extra]))
        y = sol[:, : rhs.shape[1]]
        gv[nc.key] = sol[:, rhs.shape[1]:]
    else:
        y = _solve(lu, rhs)
    yt = _solve(lu, rhs_t, trans=1)
    # b_L G_00 a_L by Dyson accumulation: G^(i)_00 = G^(i-1)_00 + G_{0,i-1} v_i g^L_i v_i^† G_{i-1,0}
    if prev is None:
        w = left.b @ y[:, :n_l]
    else:
        w = prev.w + (prev.yt[:, :n_l].T @ c.v) @ y[:, :n_l]
    return _Layer(lu=lu, y=y, yt=yt, w=w, gv=gv)


@dataclass(frozen=True)
class Branch:
    """One way of closing a trunk of slab layers: the system whose layers are the first ``at``
    trunk layers, then the ``h`` (tail) layers, then the right lead.

    Attributes
    ----------
    at : int
        Number of trunk layers kept (0 ≤ at ≤ len(trunk)); 0 couples the tail to the left lead.
    h : sequence of T ≥ 1 array_like
        Hermitian onsite blocks of the tail layers.
    v : sequence of T + 1 array_like
        v[0] = H_{trunk layer at−1, tail 0} (the left lead's last cell when at = 0),
        v[j] = H_{tail j−1, tail j}, v[T] = H_{tail T−1, first right-lead cell}.
    right : LeadModes
        Modes of the right lead (at the energy of the left lead).
    dh : sequence (one per derivative) of (sequence of T array_like, or None), optional
        ∂H/∂θ_d of the tail onsite blocks (None: zero for that derivative); ``scipy.sparse``
        blocks (e.g. block diagonal) are multiplied without densifying.
    dv : sequence (one per derivative) of (sequence of T + 1 (array_like or None), or None), optional
        ∂v[j]/∂θ_d; entry T (the right-lead coupling), and entry 0 when at = 0, must be None
        or zero.
    """

    at: int
    h: Sequence[object]
    v: Sequence[object]
    right: LeadModes
    dh: Sequence[Sequence[object] | None] | None = None
    dv: Sequence[Sequence[object | None] | None] | None = None


def _derivative_lists(d, n_d: int, name: str, length: int) -> list:
    """Normalise a per-derivative list of block lists (None → all None)."""
    if d is None:
        return [None] * n_d
    nd = _sequence_length(d, f"{name} must be a sequence with one entry per derivative")
    if nd != n_d:
        raise ValueError(f"{name} has {nd} derivative entries, expected {n_d}")
    out = []
    for k, blocks in enumerate(d):
        if blocks is None:
            out.append(None)
            continue
        m = _sequence_length(blocks, f"{name}[{k}] must be a sequence of {length} blocks (or None)",
                             reject_array=True)
        if m != length:
            raise ValueError(f"{name}[{k}] must have {length} blocks, got {m}")
        out.append(list(blocks))
    return out


def _checked_chain(h, v, n_in: int, n_out: int | None, label: str, dh, dv, n_d: int,
                   lead_in: bool) -> tuple[list, list, list, list]:
    """Validate the blocks of a trunk (``n_out`` None: no outgoing coupling) or a tail."""
    t = _sequence_length(h, f"{label}.h must be a sequence of square blocks", reject_array=True)
    if t < (1 if n_out is not None else 0):
        raise ValueError(f"{label}.h must contain at least one layer")
    hh = [as_matrix(b, f"{label}.h[{i}]") for i, b in enumerate(h)]
    for i, b in enumerate(hh):
        check_hermitian(b, f"{label}.h[{i}]")
    nv = t + (1 if n_out is not None else 0)
    mv = _sequence_length(v, f"{label}.v must be a sequence of {nv} coupling blocks")
    if mv != nv:
        raise ValueError(f"{label}.v must have {nv} blocks for {t} layers, got {mv}")
    sizes = [n_in] + [b.shape[0] for b in hh] + ([n_out] if n_out is not None else [])
    vv = []
    for i, b in enumerate(v):
        a = as_matrix(b, f"{label}.v[{i}]")
        check_shape(a, (sizes[i], sizes[i + 1]), f"{label}.v[{i}]", f"H between layers {i - 1} and {i} of {label}")
        vv.append(a)
    dhs = [None if blocks is None else validate_onsite_derivatives(blocks, hh, f"{label}.dh[{k}]", f"{label}.h")
           for k, blocks in enumerate(_derivative_lists(dh, n_d, f"{label}.dh", t))]
    dvs = []
    for k, blocks in enumerate(_derivative_lists(dv, n_d, f"{label}.dv", nv)):
        if blocks is None:
            dvs.append(None)
            continue
        arr = []
        for i, b in enumerate(blocks):
            a = None if b is None else as_matrix(b, f"{label}.dv[{k}][{i}]")
            if a is not None:
                check_shape(a, vv[i].shape, f"{label}.dv[{k}][{i}]", f"same as {label}.v[{i}]")
                to_lead = (i == 0 and lead_in) or (n_out is not None and i == nv - 1)
                if not np.any(a != 0):
                    a = None
                elif to_lead:
                    raise ValueError(
                        f"{label}.dv[{k}][{i}] (a coupling to a lead cell) must be None or zero: derivatives "
                        "of the lead couplings are not supported; pad the slab with an unrotated buffer layer")
            arr.append(a)
        dvs.append(arr)
    return hh, vv, dhs, dvs


def _accumulate(ds: list, dh_list, dv_list, i: int, psi, phit, psi_n=None, phit_n=None) -> None:
    """ds[d] += Φ_i ∂h_i Ψ_i (+ Φ_i ∂v_{i+1} Ψ_{i+1} + Φ_{i+1} ∂v_{i+1}† Ψ_i) for every derivative."""
    for d, (dhd, dvd) in enumerate(zip(dh_list, dv_list)):
        if dhd is not None:
            ds[d] += phit.T @ (dhd[i] @ psi)
        if psi_n is not None and dvd is not None and dvd[i + 1] is not None:
            dvi = dvd[i + 1]
            ds[d] += phit.T @ (dvi @ psi_n)
            ds[d] += phit_n.T @ (dvi.conj().T @ psi)


def _result(s, n_l, n_r, left, right, ds) -> SMatrixResult:
    res = SMatrixResult(S=s, n_left=n_l, n_right=n_r, left=left, right=right, energy=left.energy,
                        dS=None if ds is None else ds[0], dS_all=None if ds is None else tuple(ds))
    err = res.unitarity_error()
    if not err <= UNITARITY_WARN:
        warnings.warn(
            f"S-matrix not unitary: max|S^dagger S - 1| = {err:.2e} at energy {left.energy!r} "
            "(energy near a lead band edge, or prop_tol too small for this model)",
            RuntimeWarning, stacklevel=3,
        )
    return res


def _stored_bytes(h: list, couplings: list, n_l: int) -> int:
    """Bytes of the per-layer records kept for the backward sweep, 16 (n² + 2 n n_L + n g)
    per layer: the LU factors, y and yt, and g v for the next coupling (g = |R| columns of
    g[:, R] for a coupling with |R| non-zero rows, all its columns for a dense one)."""
    total = 0
    for i, b in enumerate(h):
        n = b.shape[0]
        g = 0
        if i + 1 < len(couplings):
            c = couplings[i + 1]
            g = c.v.shape[1] if c.cols is None else c.rows.size
        total += 16 * (n * n + 2 * n * n_l + n * g)
    return int(total)


def _engine(left: LeadModes, h_tr, v_tr, dh_tr, dv_tr, branches, n_d: int, memory_limit_bytes) -> list[SMatrixResult]:
    """Nested-closure RGF on validated blocks (see :func:`smatrix_nested`)."""
    e = left.energy
    n_l = left.n_modes
    p = len(h_tr)
    keep = n_d > 0
    lt_v0 = v_tr[0] if p else branches[0][2][0]
    lt = _left_terms(left, lt_v0)
    c_tr = [_Coupling.of(v) for v in v_tr]
    order = sorted(range(len(branches)), key=lambda b: branches[b][0].at)
    by_at: dict[int, list[int]] = {}
    for b in order:
        by_at.setdefault(branches[b][0].at, []).append(b)
    depth = max((br.at for br, *_ in branches), default=0)  # trunk layers any branch needs
    stride = p + 1
    if keep and memory_limit_bytes is not None and _stored_bytes(h_tr[:depth], c_tr, n_l) > memory_limit_bytes:
        stride = max(1, math.isqrt(max(depth, 1)))  # √M anchors + √M recomputed layers

    results: list[SMatrixResult | None] = [None] * len(branches)
    entry: dict[int, tuple] = {}  # branch → (Ψ, Φᵀ, dS) on trunk layer at−1 (derivatives)

    def close(b: int, prev: _Layer | None) -> None:
        """Forward through the tail of branch b, S, and its backward part down to the trunk."""
        br, th, tv, tdh, tdv = branches[b]  # (Branch, h, v, dh, dv) validated
        same = prev is not None or tv[0] is lt_v0 or np.array_equal(tv[0], lt_v0)
        lterms = lt if same else _left_terms(left, tv[0])
        rt = _right_terms(br.right, tv[-1])
        cs = [_Coupling.of(v) for v in tv]
        lays = []
        lay = prev
        for j, hj in enumerate(th):
            last = j == len(th) - 1
            lay = _step(e, hj, lay, cs[j], lterms, next_coupling=None if last else cs[j + 1],
                        right=rt if last else None)
            lays.append(lay)
        n_r = br.right.n_modes
        s = np.zeros((n_l + n_r, n_l + n_r), complex)
        s[:n_l, :n_l] = lterms.r_dir + lay.w
        s[n_l:, :n_l] = rt.b @ lay.y[:, :n_l]
        s[n_l:, n_l:] = rt.rp_dir + rt.b @ lay.y[:, n_l:]
        s[:n_l, n_l:] = lay.yt[:, :n_l].T @ rt.a
        if not keep:
            results[b] = _result(s, n_l, n_r, left, br.right, None)
            return
        ds = [np.zeros_like(s) for _ in range(n_d)]
        psi, phit = lay.y, lay.yt
        _accumulate(ds, tdh, [None] * n_d, len(th) - 1, psi, phit)
        for j in range(len(th) - 2, -1, -1):
            psi_n, phit_n = psi, phit
            psi, phit = _back(lays[j], cs[j + 1], psi_n, phit_n, n_l, (psi_n.shape[1],))
            _accumulate(ds, tdh, tdv, j, psi, phit, psi_n, phit_n)
        if prev is None:
            results[b] = _result(s, n_l, n_r, left, br.right, ds)
            return
        psi_n, phit_n = psi, phit
        psi, phit = _back(prev, cs[0], psi_n, phit_n, n_l, (psi_n.shape[1],))
        for d, dvd in enumerate(tdv):  # coupling trunk at−1 → tail 0
            if dvd is not None and dvd[0] is not None:
                ds[d] += phit.T @ (dvd[0] @ psi_n) + phit_n.T @ (dvd[0].conj().T @ psi)
        entry[b] = (psi, phit, ds, s, n_r)

    for b in by_at.get(0, []):
        close(b, None)
    stored: dict[int, _Layer] = {}
    lay = None
    for i in range(depth):
        nxt = c_tr[i + 1] if i + 1 < p else None
        lay = _step(e, h_tr[i], lay, c_tr[i] if i else None, lt, next_coupling=nxt)
        for b in by_at.get(i + 1, []):
            close(b, lay)
        if keep and (stride > p or i % stride == stride - 1 or i == depth - 1):
            stored[i] = lay  # all layers, or only the anchors in recomputation mode

    if keep and depth:
        # backward trunk sweep, all branches at once: Ψ_i = y_i + g_i v_{i+1} Ψ_{i+1}
        active: list[int] = []
        psi = phit = None
        seg: dict[int, _Layer] = {}
        for i in range(depth - 1, -1, -1):
            rec = stored.get(i)
            if rec is None:
                rec = seg.get(i)
            if rec is None:
                # recompute the segment (anchor a, i] forward from the anchor below it
                a = max([j for j in stored if j < i], default=-1)
                seg = {}
                prev = stored.get(a)
                for j in range(a + 1, i + 1):
                    nxt = c_tr[j + 1] if j + 1 < p else None
                    prev = _step(e, h_tr[j], prev, c_tr[j] if j else None, lt, next_coupling=nxt)
                    seg[j] = prev
                rec = seg[i]
            if active:
                psi_n, phit_n = psi, phit  # states on layer i+1, for the coupling terms below
                psi, phit = _back(rec, c_tr[i + 1], psi_n, phit_n, n_l, [entry[b][4] + n_l for b in active])
            new = by_at.get(i + 1, [])
            if new:
                add_psi = [entry[b][0] for b in new]
                add_phit = [entry[b][1] for b in new]
                psi = np.hstack(([psi] if active else []) + add_psi)
                phit = np.hstack(([phit] if active else []) + add_phit)
            n_active_old = len(active)
            active = active + new
            # on-site terms for every active branch (one ∂h Ψ product for all of them), couplings
            # i → i+1 for the advanced ones
            dh_psi = [None if dh_tr[d] is None else dh_tr[d][i] @ psi for d in range(n_d)]
            off = 0
            for idx, b in enumerate(active):
                w = entry[b][4] + n_l
                sl = slice(off, off + w)
                ds = entry[b][2]
                for d in range(n_d):
                    if dh_psi[d] is not None:
                        ds[d] += phit[:, sl].T @ dh_psi[d][:, sl]
                    if idx < n_active_old and dv_tr[d] is not None and dv_tr[d][i + 1] is not None:
                        dvi = dv_tr[d][i + 1]
                        ds[d] += (phit[:, sl].T @ (dvi @ psi_n[:, sl])
                                  + phit_n[:, sl].T @ (dvi.conj().T @ psi[:, sl]))
                off += w
            if i not in stored:
                seg.pop(i, None)
        for b in active:
            _, _, ds, s, n_r = entry[b]
            results[b] = _result(s, n_l, n_r, left, branches[b][0].right, ds)
    return results


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
    _check_modes(left, "left")
    _check_modes(right, "right")
    if left.energy != right.energy:
        raise ValueError(f"left and right lead modes are at different energies ({left.energy} vs {right.energy})")
    h, v, dh = validate_slab(h_slab, v_slab, left.n_orbitals, right.n_orbitals, dh_slab)
    dv = validate_dv_slab(dv_slab, v)
    n_d = 1 if (dh is not None or dv is not None) else 0
    branch = (Branch(at=0, h=h, v=v, right=right), h, v, [dh] * n_d, [dv] * n_d)
    return _engine(left, [], [], [None] * n_d, [None] * n_d, [branch], n_d, None)[0]


def _check_modes(modes: object, name: str) -> None:
    if not isinstance(modes, LeadModes):
        raise ValueError(f"{name} must be a LeadModes instance, got {type(modes).__name__}")
    if modes.u_left.shape[1] != modes.n_modes:
        raise ValueError("lead modes must have equal numbers of right- and left-going modes")


def smatrix_nested(
    left: LeadModes,
    trunk_h: Sequence[object],
    trunk_v: Sequence[object],
    branches: Sequence[Branch],
    trunk_dh: Sequence[Sequence[object] | None] | None = None,
    trunk_dv: Sequence[Sequence[object | None] | None] | None = None,
    derivatives: int = 0,
    memory_limit_bytes: float | None = None,
) -> list[SMatrixResult]:
    r"""S-matrices (and ∂S/∂θ_d) of several systems that share their first layers.

    System b consists of the left lead, the first ``branches[b].at`` layers of the trunk, the
    tail layers of branch b and its right lead. All systems are solved in **one** forward
    left-connected RGF sweep over the trunk (one LU, one triangular solve, one GEMM per
    layer); at the trunk layer where a branch leaves, only its tail is swept (from the stored
    left-connected state) and closed with its right lead's self-energy. This is how nested
    slab lengths L₁ < … < Lₙ are computed at the cost of the longest one: the trunk is the
    longest slab, and each branch is the right buffer that follows the first L_i layers
    (plus the few layers whose blocks differ from the trunk's next to the cut).

    With ``derivatives`` = n_d > 0, ∂S/∂θ_d = Σ Φ ∂H_d Ψ for every branch (see the module
    docstring): the scattering states Ψ and adjoint states Φ of all branches are
    back-propagated together through the stored trunk factors — Ψ_i = y_i + g_i v_{i+1}
    Ψ_{i+1}, one triangular solve with Σ_b (N_L + N_R,b) right-hand sides per layer, i.e.
    O(n² N_modes) per layer and branch and no further factorisation — and every derivative
    reuses the same states (the damping tensor from one solve).

    Parameters
    ----------
    left : LeadModes
        Modes of the left lead (shared by all systems).
    trunk_h : sequence of P array_like
        Hermitian onsite blocks of the shared layers (P ≥ 0).
    trunk_v : sequence of P array_like
        trunk_v[0] = H_{left-lead cell, trunk 0}, trunk_v[i] = H_{trunk i−1, trunk i}.
    branches : sequence of Branch
        The systems (see :class:`Branch`); results come back in this order.
    trunk_dh, trunk_dv : sequence (one per derivative) of block lists or None, optional
        ∂h_i/∂θ_d (P blocks) and ∂v_i/∂θ_d (P entries, entry 0 None); None: zero.
    derivatives : int
        Number n_d ≥ 0 of parameters θ_d (0: S only).
    memory_limit_bytes : float, optional
        With derivatives, the backward sweep needs the trunk records: (n_i² + 2 n_i N_L + n_i |R_i|)
        complex numbers (16 bytes each) per trunk layer, |R_i| the non-zero rows of the coupling
        to the next layer (its width for a dense one). When their total exceeds this limit,
        only √P anchor layers are kept and the factors between anchors are recomputed during
        the backward sweep (one extra forward sweep; results identical to round-off).
        None: keep everything.

    Returns
    -------
    list of SMatrixResult
        One per branch; ``dS_all`` holds the n_d derivatives (``dS`` the first).

    Raises
    ------
    ValueError
        For bad blocks (the message names ``trunk.h[i]``, ``branch[b].v[j]`` …), a branch
        leaving beyond the trunk, leads at different energies, or derivatives of lead couplings.
    """
    _check_modes(left, "left")
    if isinstance(derivatives, bool) or not isinstance(derivatives, (int, np.integer)) or derivatives < 0:
        raise ValueError(f"derivatives must be an integer >= 0, got {derivatives!r}")
    n_d = int(derivatives)
    if memory_limit_bytes is not None and not (float(memory_limit_bytes) > 0):
        raise ValueError(f"memory_limit_bytes must be > 0 or None, got {memory_limit_bytes!r}")
    h_tr, v_tr, dh_tr, dv_tr = _checked_chain(trunk_h, trunk_v, left.n_orbitals, None, "trunk",
                                              trunk_dh, trunk_dv, n_d, lead_in=True)
    p = len(h_tr)
    nb = _sequence_length(branches, "branches must be a sequence of Branch", reject_array=True)
    if nb < 1:
        raise ValueError("branches must contain at least one Branch")
    checked = []
    for b, br in enumerate(branches):
        if not isinstance(br, Branch):
            raise ValueError(f"branches[{b}] must be a Branch, got {type(br).__name__}")
        _check_modes(br.right, f"branches[{b}].right")
        if br.right.energy != left.energy:
            raise ValueError(f"branches[{b}].right is at energy {br.right.energy}, the left lead at {left.energy}")
        at = br.at
        if isinstance(at, bool) or not isinstance(at, (int, np.integer)) or not 0 <= at <= p:
            raise ValueError(f"branches[{b}].at must be an integer in [0, {p}] (trunk layers), got {at!r}")
        n_in = left.n_orbitals if at == 0 else h_tr[at - 1].shape[0]
        checked.append((br, *_checked_chain(br.h, br.v, n_in, br.right.n_orbitals, f"branch[{b}]",
                                            br.dh, br.dv, n_d, lead_in=at == 0)))
    return _engine(left, h_tr, v_tr, dh_tr, dv_tr, checked, n_d, memory_limit_bytes)
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
    dh_slab : sequence of M array_like or scipy.sparse matrices, optional
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
