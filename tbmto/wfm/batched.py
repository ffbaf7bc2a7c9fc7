r"""Transmission of many small lead | slab | lead systems at once (batched over k∥).

For small principal-layer blocks (a 1×1 fcc(001) cell with SOC has n = 36 spin-orbitals)
the per-k path (:func:`tbmto.wfm.smatrix`) spends most of its time outside the arithmetic
that is unavoidable. :func:`transmission_batched` takes the blocks of B independent systems
(typically B k∥ points of one structure) as stacked arrays and computes, with stacked
``numpy.linalg`` calls (``svd``, ``inv``, ``eig``, ``eigh``, ``qr`` on (B, n, n) arrays; a
Python loop over slab layers only), the Landauer transmission Tr t†t and the numbers of
propagating channels of every system. Conventions as in :mod:`tbmto.wfm`: K = E − H,
H_{j,j+1} = v, energies in the unit of the model (Ry for the MTO caller, which passes
H = S^α − P^α(E) at E = 0).

Method
------
*Leads* (Ando, PRB 44, 8017 (1991); the compressed pencil of
:func:`tbmto.wfm.leads.lead_modes`). With v = P Q† (SVD, rank r; the trivial λ = 0, ∞
solutions of a rank-deficient MTO hopping drop out exactly), a unimodular shift σ with
M_σ = E − h − σv − σ*v† well conditioned and G_σ = M_σ⁻¹, the Bloch problem is the
2r × 2r pencil of :func:`~tbmto.wfm.leads.lead_modes`; a Möbius map μ = (λ − a)/(1 − a*λ)
(unit circle → unit circle, λ = 0, ∞ → finite points) turns it into a standard matrix T.
Instead of a reordered Schur form (which numpy cannot batch) T is diagonalised by the
stacked ``numpy.linalg.eig``. Eigenvalues are classified as in ``lead_modes``
(| |λ| − 1 | < ``prop_tol``: propagating; their direction from the sign of the
probability current J = −2 Im(λ u†v u)); the right-going set (|λ| < 1 and right-moving)
and the left-going set are orthonormalised by a QR factorisation (their *spans* are what
matters, not the individual, possibly ill-conditioned, eigenvectors) and give, without
inverting any mode matrix,

.. math::  \Sigma_+ = v F_+ = -\sigma^{-1} P\, C D^{-1} P^\dagger, \qquad
           \Sigma_- = v^\dagger \tilde F_-^{-1} = -\sigma\, Q\, D C^{-1} Q^\dagger

from the upper (C) and lower (D) halves of the bases, exactly as ``lead_modes`` does.

*Slab* (Caroli, Combescot, Nozières & Saint-James, J. Phys. C 4, 916 (1971); Fisher &
Lee, PRB 23, 6851 (1981)). Σ_L = v_0† g_L v_0 on slab layer 0 with
g_L = (E − h_L − Σ₋)⁻¹ and Σ_R = v_M g_R v_M† on layer M−1 with g_R = (E − h_R − Σ₊)⁻¹;
a left-connected recursive Green's function sweep (one stacked n × n inverse and a few
products per layer) gives G_{M−1,0}, G_{M−1,M−1}, and

.. math::  T = \mathrm{Tr}\,[\Gamma_R\, G_{M-1,0}\, \Gamma_L\, G_{M-1,0}^\dagger], \qquad
           \Gamma_{L,R} = i(\Sigma_{L,R} - \Sigma_{L,R}^\dagger),

which is basis independent: no flux-normalised modes, no current diagonalisation of
degenerate propagating modes. It equals Tr t†t of :func:`tbmto.wfm.smatrix` (same leads,
same slab) to round-off. N_left, N_right are the numbers of right-going propagating modes
of the left and right lead (as ``SMatrixResult.n_left``, ``n_right``).

Checks and fallback
-------------------
A batch element is recomputed with the per-k :func:`tbmto.wfm.smatrix` (and counted in
``BatchedResult.fallback``) when any of these fails — the batched number is never returned
unverified:

* a regular shift σ and Möbius parameter a are found (reciprocal 1-norm condition
  > ``1e-8`` and > ``1e-7``, as in ``lead_modes``);
* no Bloch factor lies in the ambiguous zone 0.1 prop_tol ≤ | |λ| − 1 | ≤ 100 prop_tol
  (near a band edge the per-k Schur path and the batched eigenvalues could classify a
  mode differently), and every propagating mode has a current |J|/|u|² above
  ``velocity_tol`` · max(1, max|v|);
* the right-going and the left-going sets have r members each;
* the current form restricted to the propagating eigenvectors is consistent with the
  classification (no cross current between right- and left-movers, definite within each
  direction: a degenerate right/left pair mixed by ``eig`` is detected);
* the selected eigenvectors are linearly independent (smallest |R_ii| of their QR
  factorisation > ``basis_tol``) and D (resp. C) is invertible (rcond > 1e-13, as in
  ``lead_modes``);
* the lead self-energies solve their defining equations, Σ₊ = v (E − h − Σ₊)⁻¹ v† and
  Σ₋ = v† (E − h − Σ₋)⁻¹ v, to a relative residual below ``residual_tol``;
* the broadenings Γ_L, Γ_R are positive semidefinite of rank N_L, N_R (relative defect
  below ``residual_tol``), and the reflection sums of the Mahaux–Weidenmüller S-matrix
  built from them, |N_L − T − Tr r†r| and |N_R − T − Tr r′†r′|, are below
  ``unitarity_tol`` (returned per element as ``unitarity_error``).

Limits
------
* Transmission and channel counts only: no r, t matrices over flux-normalised modes and
  **no ∂S/∂θ** (damping) in the batched path — use :func:`tbmto.wfm.smatrix` /
  :func:`~tbmto.wfm.smatrix_nested` for those. No nested lengths.
* All systems of one call share M and the block sizes (stack one structure's k∥ points).
* Memory ~ 12 (2r)² complex numbers per batch element for the lead eigenproblem (see
  :func:`batch_size_for`); the arithmetic is that of one 2r × 2r ``zgeev`` per distinct
  lead and element, so the gain over the per-k path is the Python overhead, largest for
  small n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .validate import HERMITIAN_RTOL, check_energy

__all__ = ["BatchedResult", "BatchedLeads", "transmission_batched", "lead_self_energies_batched",
           "batch_size_for", "stack_blocks"]

#: Trial shift phases σ = e^{iφ} (the first four of :mod:`tbmto.wfm.leads`' golden-angle sequence).
_SHIFT_PHASES = 0.7 + 2.399963229728653 * np.arange(6)
#: Trial Möbius parameters a (as in :mod:`tbmto.wfm.leads`).
_MOBIUS = 0.5 * np.exp(1j * (0.3 + 2.399963229728653 * np.arange(6)))


@dataclass(frozen=True)
class BatchedResult:
    """Transmission and channel counts of B systems (one per batch element).

    Attributes
    ----------
    transmission : numpy.ndarray
        (B,) Landauer transmission T = Tr t†t (conductance in e²/h).
    n_left, n_right : numpy.ndarray
        (B,) int, propagating channels of the left / right lead (right-going modes).
    unitarity_error : numpy.ndarray
        (B,) for batched elements max(|N_L − T − Tr r†r|, |N_R − T − Tr r′†r′|) of the
        Mahaux–Weidenmüller S-matrix from Γ_L, Γ_R (a current-conservation check); for
        fallback elements ``SMatrixResult.unitarity_error()`` (max|S†S − 1|).
    fallback : numpy.ndarray
        (B,) bool, True where the element was recomputed with :func:`tbmto.wfm.smatrix`.
    reason : tuple of str
        Per element the failed check ("" when the batched result was kept).
    energy : float
        Energy E of K = E − H (model unit).
    """

    transmission: np.ndarray
    n_left: np.ndarray
    n_right: np.ndarray
    unitarity_error: np.ndarray
    fallback: np.ndarray
    reason: tuple
    energy: float

    @property
    def n_fallback(self) -> int:
        """Number of elements computed by the per-k path."""
        return int(np.count_nonzero(self.fallback))

    def __len__(self) -> int:
        return int(self.transmission.shape[0])


@dataclass(frozen=True)
class BatchedLeads:
    """Self-energies and channel counts of B leads (see :func:`lead_self_energies_batched`).

    Attributes
    ----------
    self_energy_right : numpy.ndarray
        (B, n, n) Σ₊ = v F₊ (self-energy on a cell from the lead on its right).
    self_energy_left : numpy.ndarray
        (B, n, n) Σ₋ = v† F̃₋⁻¹ (self-energy on a cell from the lead on its left).
    n_modes : numpy.ndarray
        (B,) int, propagating modes per direction.
    ok : numpy.ndarray
        (B,) bool, False where a check failed (the values there are not to be used).
    reason : list of str
        Per element the failed check ("" when ``ok``).
    """

    self_energy_right: np.ndarray
    self_energy_left: np.ndarray
    n_modes: np.ndarray
    ok: np.ndarray
    reason: list


def batch_size_for(n: int, memory_bytes: float = 256e6, max_batch: int = 256) -> int:
    """Batch size B for systems with principal-layer blocks of n orbitals.

    The lead eigenproblem dominates memory: about 12 complex (2n)² arrays per element (T,
    its eigenvectors, LAPACK work space, the inverse of the Möbius denominator) plus a few
    n × n arrays per slab layer. B = memory_bytes / (12 · 16 · (2n)²), clipped to
    [1, ``max_batch``]; beyond ~64 elements the time per element no longer improves for
    n ≳ 20, so the default cap keeps the working set small (n = 36: B = 256 uses ~ 250 MB).

    Parameters
    ----------
    n : int
        Largest block size (orbitals per principal layer, leads included).
    memory_bytes : float
        Budget for one batch (bytes).
    max_batch : int
        Upper limit of B.

    Returns
    -------
    int
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer (orbitals per block), got {n!r}")
    if not memory_bytes > 0:
        raise ValueError(f"memory_bytes must be > 0, got {memory_bytes!r}")
    if isinstance(max_batch, bool) or not isinstance(max_batch, (int, np.integer)) or max_batch < 1:
        raise ValueError(f"max_batch must be a positive integer, got {max_batch!r}")
    per = 12 * 16 * (2 * int(n)) ** 2
    return int(max(1, min(int(max_batch), memory_bytes // per)))


# ------------------------------------------------------------------------ validation


def _stack(x: object, name: str, b: int | None = None) -> np.ndarray:
    """``x`` as a finite complex (B, p, q) array; ``name`` appears in every message."""
    try:
        a = np.asarray(x, dtype=np.complex128)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric (B, n, n) array, got {type(x).__name__}") from exc
    if a.ndim != 3:
        raise ValueError(f"{name} must be a 3-D stacked array (B, rows, cols), got shape {a.shape}")
    if a.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one batch element, got shape {a.shape}")
    if b is not None and a.shape[0] != b:
        raise ValueError(f"{name} has batch size {a.shape[0]}, expected B = {b} (from h_left)")
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(a), axis=(1, 2)))[0])
        raise ValueError(f"{name} contains NaN or inf entries (batch element {bad})")
    return a


def _hermitian(a: np.ndarray, name: str) -> None:
    if a.shape[1] != a.shape[2]:
        raise ValueError(f"{name} must hold square blocks, got shape {a.shape}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} must have at least one orbital, got shape {a.shape}")
    scale = np.maximum(1.0, np.max(np.abs(a), axis=(1, 2)))
    err = np.max(np.abs(a - np.conj(np.swapaxes(a, 1, 2))), axis=(1, 2))
    bad = np.flatnonzero(err > HERMITIAN_RTOL * scale)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name} must be Hermitian: batch element {i} has max|H - H^dagger| = "
                         f"{err[i]:.3e} exceeding {HERMITIAN_RTOL:.1e} * {scale[i]:.3e}")


def _validate(h_left, v_left, h_slab, v_slab, h_right, v_right):
    hl = _stack(h_left, "h_left")
    bsz = hl.shape[0]
    _hermitian(hl, "h_left")
    nl = hl.shape[1]
    vl = _stack(v_left, "v_left", bsz)
    if vl.shape[1:] != (nl, nl):
        raise ValueError(f"v_left must have shape (B, {nl}, {nl}) (H_(j,j+1) of the left lead), got {vl.shape}")
    hr = _stack(h_right, "h_right", bsz)
    _hermitian(hr, "h_right")
    nr = hr.shape[1]
    vr = _stack(v_right, "v_right", bsz)
    if vr.shape[1:] != (nr, nr):
        raise ValueError(f"v_right must have shape (B, {nr}, {nr}) (H_(j,j+1) of the right lead), got {vr.shape}")
    if isinstance(h_slab, np.ndarray) and h_slab.ndim != 4:
        raise ValueError("h_slab must be a sequence of M >= 1 stacked (B, n_i, n_i) arrays "
                         f"(or one (M, B, n, n) array), got an array of shape {h_slab.shape}")
    try:
        m = len(h_slab)
    except TypeError as exc:
        raise ValueError("h_slab must be a sequence of M >= 1 stacked (B, n_i, n_i) arrays") from exc
    if m < 1:
        raise ValueError("h_slab must contain at least one layer (M >= 1)")
    hs = []
    for i, x in enumerate(h_slab):
        a = _stack(x, f"h_slab[{i}]", bsz)
        _hermitian(a, f"h_slab[{i}]")
        hs.append(a)
    if isinstance(v_slab, np.ndarray) and v_slab.ndim != 4:
        raise ValueError("v_slab must be a sequence of M+1 stacked coupling arrays, "
                         f"got an array of shape {v_slab.shape}")
    try:
        mv = len(v_slab)
    except TypeError as exc:
        raise ValueError("v_slab must be a sequence of M+1 stacked coupling arrays") from exc
    if mv != m + 1:
        raise ValueError(f"v_slab must have M+1 = {m + 1} blocks for M = {m} slab layers, got {mv}")
    sizes = [nl] + [a.shape[1] for a in hs] + [nr]
    labels = ["left lead"] + [f"slab layer {i}" for i in range(m)] + ["right lead"]
    vs = []
    for i, x in enumerate(v_slab):
        a = _stack(x, f"v_slab[{i}]", bsz)
        if a.shape[1:] != (sizes[i], sizes[i + 1]):
            raise ValueError(f"v_slab[{i}] must have shape (B, {sizes[i]}, {sizes[i + 1]}) "
                             f"(H between {labels[i]} and {labels[i + 1]}), got {a.shape}")
        vs.append(a)
    return hl, vl, hs, vs, hr, vr


def stack_blocks(blocks: Sequence[object]):
    """Stack per-k blocks into the arguments of :func:`transmission_batched`.

    Parameters
    ----------
    blocks : sequence of objects
        One per k∥: objects with attributes ``h_left, v_left, h_slab, v_slab, h_right,
        v_right`` (e.g. :class:`tbmto.layers.HamiltonianBlocks`) or 6-tuples in that order.

    Returns
    -------
    tuple
        (h_left, v_left, h_slab, v_slab, h_right, v_right) as stacked arrays / lists of
        stacked arrays.
    """
    try:
        nb = len(blocks)
    except TypeError as exc:
        raise ValueError("blocks must be a sequence of per-k blocks") from exc
    if nb < 1:
        raise ValueError("blocks must contain at least one element")
    names = ("h_left", "v_left", "h_slab", "v_slab", "h_right", "v_right")

    def fields(b):
        if all(hasattr(b, f) for f in names):
            return [getattr(b, f) for f in names]
        if isinstance(b, (tuple, list)) and len(b) == 6:
            return list(b)
        raise ValueError("each element of blocks must have h_left, v_left, h_slab, v_slab, h_right, "
                         f"v_right (or be a 6-tuple), got {type(b).__name__}")

    cols = [fields(b) for b in blocks]
    m = len(cols[0][2])
    for i, c in enumerate(cols):
        if len(c[2]) != m or len(c[3]) != m + 1:
            raise ValueError(f"blocks[{i}] has {len(c[2])} slab layers and {len(c[3])} couplings, "
                             f"blocks[0] has {m} and {m + 1}")
    try:
        same_lead = all(c[0] is c[4] and c[1] is c[5] for c in cols)
        hl = np.stack([c[0] for c in cols])
        vl = np.stack([c[1] for c in cols])
        hs = [np.stack([c[2][i] for c in cols]) for i in range(m)]
        vs = [np.stack([c[3][i] for c in cols]) for i in range(m + 1)]
        if same_lead:
            hr, vr = hl, vl
        else:
            hr = np.stack([c[4] for c in cols])
            vr = np.stack([c[5] for c in cols])
    except ValueError as exc:
        raise ValueError(f"blocks of different shapes cannot be stacked: {exc}") from exc
    return hl, vl, hs, vs, hr, vr


# ------------------------------------------------------------------------ lead part


def _h(a: np.ndarray) -> np.ndarray:
    """Conjugate transpose of the last two axes."""
    return np.conj(np.swapaxes(a, -1, -2))


def _norm1(a: np.ndarray) -> np.ndarray:
    """1-norm (max column sum) of each matrix of a stack."""
    return np.max(np.sum(np.abs(a), axis=-2), axis=-1)


def _inv_checked(a: np.ndarray):
    """(inverse, reciprocal 1-norm condition) of a stack; singular elements get rcond 0."""
    try:
        inv = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        inv = np.empty_like(a)
        for i in range(a.shape[0]):
            try:
                inv[i] = np.linalg.inv(a[i])
            except np.linalg.LinAlgError:
                inv[i] = np.nan
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        rc = 1.0 / (_norm1(a) * _norm1(inv))
    rc = np.where(np.isfinite(rc), rc, 0.0)
    return inv, rc


def _leads_rank(h, v, e, r, p_mat, q_mat, prop_tol, velocity_tol, basis_tol, residual_tol):
    """Self-energies of a stack of leads whose hoppings all have rank r ≥ 1 (v = P Q†)."""
    bsz, n, _ = h.shape
    reason = np.full(bsz, "", dtype=object)

    def fail(mask, why):
        new = mask & (reason == "")
        reason[new] = why

    eye_n = np.eye(n)
    e_minus_h = e * eye_n - h
    v_dag = _h(v)
    # shift σ: M_σ = E − h − σv − σ* v† (Hermitian); best conditioned of up to 6 trials
    sigma = np.zeros(bsz, complex)
    g_inv = np.zeros((bsz, n, n), complex)
    best = np.full(bsz, -1.0)
    todo = np.arange(bsz)
    for k, phase in enumerate(_SHIFT_PHASES):
        s = complex(np.exp(1j * phase))
        m_sig = e_minus_h[todo] - s * v[todo] - np.conj(s) * v_dag[todo]
        inv, rc = _inv_checked(m_sig)
        better = rc > best[todo]
        idx = todo[better]
        best[idx], sigma[idx], g_inv[idx] = rc[better], s, inv[better]
        todo = todo[best[todo] <= (0.05 if k < 3 else 1e-6)]
        if todo.size == 0:
            break
    fail(best <= 1e-8, "no regular shift sigma (M_sigma singular)")
    g_pq = g_inv @ np.concatenate([p_mat, q_mat], axis=2)  # G_σ (P Q)
    g_p, g_q = g_pq[:, :, :r], g_pq[:, :, r:]
    s_mat = _h(np.concatenate([q_mat, p_mat], axis=2)) @ g_pq  # A = ((Q†GP, Q†GQ), (P†GP, P†GQ))
    m2 = 2 * r
    # Möbius: T = κ + (B − a*A)^{-1} D with B − a*A = (1 − a*σ) S + diag(−a*, σ)
    t_mat = np.zeros((bsz, m2, m2), complex)
    a_par = np.zeros(bsz, complex)
    best = np.full(bsz, -1.0)
    todo = np.arange(bsz)
    diag = np.arange(m2)
    for k, a in enumerate(_MOBIUS):
        sg = sigma[todo]
        b_mob = (1.0 - np.conj(a) * sg)[:, None, None] * s_mat[todo]
        b_mob[:, diag[:r], diag[:r]] -= np.conj(a)
        b_mob[:, diag[r:], diag[r:]] += sg[:, None]
        inv, rc = _inv_checked(b_mob)
        better = rc > best[todo]
        idx = todo[better]
        kappa = (sg - a) / (1.0 - np.conj(a) * sg)
        d_diag = np.concatenate([np.broadcast_to((1.0 + kappa * np.conj(a))[:, None], (todo.size, r)),
                                 np.broadcast_to((-(a + kappa) * sg)[:, None], (todo.size, r))], axis=1)
        tt = inv * d_diag[:, None, :]
        tt[:, diag, diag] += kappa[:, None]
        best[idx], a_par[idx], t_mat[idx] = rc[better], a, tt[better]
        todo = todo[best[todo] <= (1e-2 if k < 2 else 1e-5)]
        if todo.size == 0:
            break
    fail(best <= 1e-7, "no well-conditioned Moebius transform")
    t_mat[reason != ""] = np.eye(m2)  # keep eig finite on failed elements
    mu, y = np.linalg.eig(t_mat)
    ac = np.conj(a_par)[:, None]
    num, den = np.abs(mu + a_par[:, None]), np.abs(1.0 + ac * mu)
    lam = (mu + a_par[:, None]) / (1.0 + ac * mu)
    ratio = num / den  # |λ|
    dev = np.abs(ratio - 1.0)
    fail(np.any((dev >= 0.1 * prop_tol) & (dev <= 100 * prop_tol), axis=1),
         "a Bloch factor is too close to the propagating threshold (band edge)")
    inside = ratio < 1.0 - prop_tol
    outside = ratio > 1.0 + prop_tol
    prop = ~(inside | outside)
    # orbital-space vectors u = G_σ(P c + Q d) and the current form of the propagating ones
    u = g_p @ y[:, :r] + g_q @ y[:, r:]
    lam_u = np.where(prop, lam / np.where(prop, np.abs(lam), 1.0), lam)
    w = _h(u) @ (v @ u)  # W_ab = u_a† v u_b
    # J_ab = i(λ_b W_ab − conj(λ_a) conj(W_ba))
    jm = 1j * (lam_u[:, None, :] * w - np.conj(lam_u)[:, :, None] * _h(w))
    jdiag = np.real(np.diagonal(jm, axis1=1, axis2=2))
    unorm = np.sum(np.abs(u) ** 2, axis=1)
    vel_scale = np.maximum(1.0, np.max(np.abs(v), axis=(1, 2)))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        vel = jdiag / unorm
    fail(np.any(prop & ~(np.abs(vel) > velocity_tol * vel_scale), axis=1),
         "a propagating mode has (near) zero velocity (band edge)")
    right = inside | (prop & (jdiag > 0))
    left = outside | (prop & (jdiag < 0))
    n_modes = np.sum(prop & (jdiag > 0), axis=1)
    fail((np.sum(right, axis=1) != r) | (np.sum(left, axis=1) != r),
         "inconsistent numbers of right- and left-going solutions")
    # current form among the propagating eigenvectors: no cross current between directions,
    # definite within each direction (a mixed degenerate right/left pair shows up here)
    if np.any(prop):
        pmax = int(np.max(np.sum(prop, axis=1)))
        order = np.argsort(~prop, axis=1, kind="stable")[:, :pmax]
        valid = np.take_along_axis(prop, order, axis=1)
        jp = np.take_along_axis(np.take_along_axis(jm, order[:, :, None], axis=1), order[:, None, :], axis=2)
        dj = np.sqrt(np.abs(np.take_along_axis(jdiag, order, axis=1)))
        dj = np.where(valid & (dj > 0), dj, 1.0)
        jt = jp / (dj[:, :, None] * dj[:, None, :])
        sgn = np.sign(np.real(np.diagonal(jt, axis1=1, axis2=2)))
        pair = valid[:, :, None] & valid[:, None, :]
        cross = pair & (sgn[:, :, None] != sgn[:, None, :])
        fail(np.any(cross & (np.abs(jt) > 1e-6), axis=(1, 2)), "current form mixes right- and left-going modes")
        same = pair & ~cross
        jd = np.where(same, jt * sgn[:, :, None], 0.0)
        jd[:, np.arange(pmax), np.arange(pmax)] = np.where(valid, np.real(np.diagonal(jd, axis1=1, axis2=2)), 1.0)
        jd = 0.5 * (jd + _h(jd))
        fail(np.linalg.eigvalsh(jd)[:, 0] < 1e-6, "current form not definite within one direction")

    def ratio_of(sel, top_num):
        order = np.argsort(~sel, axis=1, kind="stable")[:, :r]
        basis = np.take_along_axis(y, order[:, None, :], axis=2)
        qb, rb = np.linalg.qr(basis)
        rdiag = np.abs(np.diagonal(rb, axis1=1, axis2=2))
        ind = np.min(rdiag, axis=1) / np.max(rdiag, axis=1)
        num_, den_ = (qb[:, :r], qb[:, r:]) if top_num else (qb[:, r:], qb[:, :r])
        inv, rc = _inv_checked(den_)
        return num_ @ inv, ind, rc

    ok_now = reason == ""
    cd_r, ind_r, rc_r = ratio_of(np.where(ok_now[:, None], right, np.arange(m2)[None, :] < r), True)
    dc_l, ind_l, rc_l = ratio_of(np.where(ok_now[:, None], left, np.arange(m2)[None, :] < r), False)
    fail(np.minimum(ind_r, ind_l) < basis_tol, "mode eigenvectors nearly linearly dependent")
    fail(np.minimum(rc_r, rc_l) < 1e-13, "lead self-energy singular (surface resonance)")
    sig_r = (-1.0 / sigma)[:, None, None] * (p_mat @ cd_r @ _h(p_mat))
    sig_l = (-sigma)[:, None, None] * (q_mat @ dc_l @ _h(q_mat))
    # residuals of Σ₊ = v (E − h − Σ₊)^{-1} v† and Σ₋ = v† (E − h − Σ₋)^{-1} v
    g_r, _ = _inv_checked(e_minus_h - sig_r)
    g_l, _ = _inv_checked(e_minus_h - sig_l)
    vn = np.max(np.abs(v), axis=(1, 2))
    with np.errstate(invalid="ignore", over="ignore"):
        res_r = np.max(np.abs(sig_r - v @ g_r @ v_dag), axis=(1, 2))
        res_l = np.max(np.abs(sig_l - v_dag @ g_l @ v), axis=(1, 2))
        scl_r = vn ** 2 * np.maximum(1.0, np.max(np.abs(g_r), axis=(1, 2)))
        scl_l = vn ** 2 * np.maximum(1.0, np.max(np.abs(g_l), axis=(1, 2)))
    bad = ~((res_r <= residual_tol * scl_r) & (res_l <= residual_tol * scl_l))
    fail(bad, "lead self-energy residual too large")
    return sig_r, sig_l, n_modes, reason


def lead_self_energies_batched(h, v, energy: float = 0.0, *, prop_tol: float = 1e-6,
                               rank_tol: float = 1e-12, velocity_tol: float = 1e-9,
                               basis_tol: float = 1e-8, residual_tol: float = 1e-10) -> BatchedLeads:
    """Σ₊, Σ₋ and the number of propagating modes of B leads (stacked eigen-decomposition).

    Parameters
    ----------
    h, v : array_like
        (B, n, n) onsite blocks (Hermitian) and hoppings H_{j,j+1} of the leads.
    energy : float
        Real energy E (model unit).
    prop_tol, rank_tol : float
        As in :func:`tbmto.wfm.lead_modes`.
    velocity_tol, basis_tol, residual_tol : float
        Acceptance thresholds (module docstring); elements that fail have ``ok`` False.

    Returns
    -------
    BatchedLeads
    """
    e = check_energy(energy)
    h = _stack(h, "h")
    _hermitian(h, "h")
    v = _stack(v, "v", h.shape[0])
    if v.shape != h.shape:
        raise ValueError(f"v must have the shape of h {h.shape}, got {v.shape}")
    return _leads(h, v, e, prop_tol, rank_tol, velocity_tol, basis_tol, residual_tol)


def _leads(h, v, e, prop_tol, rank_tol, velocity_tol, basis_tol, residual_tol) -> BatchedLeads:
    bsz, n, _ = h.shape
    uu, sv, vh = np.linalg.svd(v)
    rank = np.where(sv[:, 0] > 0, np.sum(sv > rank_tol * sv[:, :1], axis=1), 0)
    sig_r = np.zeros((bsz, n, n), complex)
    sig_l = np.zeros((bsz, n, n), complex)
    n_modes = np.zeros(bsz, int)
    reason = np.full(bsz, "", dtype=object)
    for r in np.unique(rank):
        idx = np.flatnonzero(rank == r)
        r = int(r)
        if r == 0:
            continue  # decoupled lead cells: no modes, zero self-energies
        root = np.sqrt(sv[idx, :r])
        p_mat = uu[idx, :, :r] * root[:, None, :]
        q_mat = _h(vh[idx, :r, :]) * root[:, None, :]
        sr, sl, nm, why = _leads_rank(h[idx], v[idx], e, r, p_mat, q_mat, prop_tol, velocity_tol,
                                      basis_tol, residual_tol)
        sig_r[idx], sig_l[idx], n_modes[idx], reason[idx] = sr, sl, nm, why
    ok = reason == ""
    return BatchedLeads(self_energy_right=sig_r, self_energy_left=sig_l, n_modes=n_modes, ok=ok,
                        reason=list(reason))


# ------------------------------------------------------------------------ slab part


def transmission_batched(
    h_left: object,
    v_left: object,
    h_slab: Sequence[object],
    v_slab: Sequence[object],
    h_right: object,
    v_right: object,
    energy: float = 0.0,
    *,
    prop_tol: float = 1e-6,
    rank_tol: float = 1e-12,
    velocity_tol: float = 1e-9,
    basis_tol: float = 1e-8,
    residual_tol: float = 1e-10,
    unitarity_tol: float = 1e-9,
    fallback: bool = True,
) -> BatchedResult:
    r"""Landauer transmission and channel counts of B lead | slab | lead systems, K = E − H.

    Every argument is stacked over the batch (e.g. k∥ points): the b-th system is
    ``smatrix(h_left[b], v_left[b], [x[b] for x in h_slab], [x[b] for x in v_slab],
    h_right[b], v_right[b], energy)``, whose ``transmission()``, ``n_left`` and
    ``n_right`` are reproduced to round-off (Caroli formula with the lead self-energies
    of a stacked eigen-decomposition; see the module docstring for the method, the checks
    and the limits — **no ∂S/∂θ**).

    Parameters
    ----------
    h_left, v_left : array_like
        (B, n_L, n_L) left-lead onsite blocks (Hermitian) and hoppings H_{j,j+1}.
    h_slab : sequence of M ≥ 1 array_like
        (B, n_i, n_i) Hermitian slab onsite blocks.
    v_slab : sequence of M+1 array_like
        v_slab[0] (B, n_L, n_0) = H_{last left-lead cell, slab 0}; v_slab[i] (B, n_{i−1}, n_i);
        v_slab[M] (B, n_{M−1}, n_R) = H_{slab M−1, first right-lead cell}.
    h_right, v_right : array_like
        (B, n_R, n_R) right-lead onsite blocks and hoppings. Passing the same arrays as
        for the left lead (or equal ones) solves the lead once.
    energy : float
        Real energy E (model unit; the MTO caller uses E = 0 with H = S^α − P^α(E_F)).
    prop_tol, rank_tol : float
        As in :func:`tbmto.wfm.lead_modes`.
    velocity_tol, basis_tol, residual_tol, unitarity_tol : float
        Acceptance thresholds of the batched result (module docstring).
    fallback : bool
        Recompute rejected elements with :func:`tbmto.wfm.smatrix` (default). With False a
        rejected element raises ``ValueError`` instead.

    Returns
    -------
    BatchedResult
        ``transmission``, ``n_left``, ``n_right``, ``unitarity_error``, ``fallback`` mask
        and ``reason`` per element.

    Raises
    ------
    ValueError
        Naming the argument for shape, batch-size, finiteness or Hermiticity errors, for a
        complex energy, or (from the per-k fallback) for an energy at a lead band edge.
    """
    e = check_energy(energy)
    hl, vl, hs, vs, hr, vr = _validate(h_left, v_left, h_slab, v_slab, h_right, v_right)
    for name, val in (("prop_tol", prop_tol), ("rank_tol", rank_tol), ("velocity_tol", velocity_tol),
                      ("basis_tol", basis_tol), ("residual_tol", residual_tol), ("unitarity_tol", unitarity_tol)):
        if not (isinstance(val, (int, float, np.floating)) and np.isfinite(val) and val > 0):
            raise ValueError(f"{name} must be a positive finite number, got {val!r}")
    bsz = hl.shape[0]
    tol = (prop_tol, rank_tol, velocity_tol, basis_tol, residual_tol)
    left = _leads(hl, vl, e, *tol)
    same = (hr is hl and vr is vl) or (hr.shape == hl.shape and np.array_equal(hr, hl) and np.array_equal(vr, vl))
    right = left if same else _leads(hr, vr, e, *tol)
    reason = np.array([a or b for a, b in zip(left.reason, right.reason)], dtype=object)
    n_l, n_r = left.n_modes.copy(), right.n_modes.copy()

    # lead surface Green's functions and the self-energies on the first and last slab layer
    m = len(hs)
    g_l = _inv_checked(e * np.eye(hl.shape[1]) - hl - left.self_energy_left)[0]
    g_r = _inv_checked(e * np.eye(hr.shape[1]) - hr - right.self_energy_right)[0]
    v0, vm = vs[0], vs[m]
    sig_l = _h(v0) @ g_l @ v0
    sig_r = vm @ g_r @ _h(vm)
    gam_l = 1j * (sig_l - _h(sig_l))
    gam_r = 1j * (sig_r - _h(sig_r))
    gam_l = 0.5 * (gam_l + _h(gam_l))
    gam_r = 0.5 * (gam_r + _h(gam_r))

    # checks: Γ PSD of rank N, reflection sums of the Mahaux–Weidenmüller S = −1 + i W†GW
    def coupling(gam, nch, name):
        wv, vv = np.linalg.eigh(gam)  # ascending
        nb, nn = wv.shape
        top = np.maximum(wv[:, -1], 1e-300)
        ncol = int(max(1, np.max(nch)))
        ncol = min(ncol, nn)
        order = np.arange(nn)[None, :] >= (nn - nch[:, None])  # the N largest
        rest = np.where(order, 0.0, np.abs(wv))
        defect = np.max(rest, axis=1) / top
        defect = np.where(nch > 0, defect, np.max(np.abs(wv), axis=1))
        wcols = vv[:, :, nn - ncol:] * np.sqrt(np.maximum(wv[:, nn - ncol:], 0.0))[:, None, :]
        keep = np.arange(ncol)[None, :] >= (ncol - nch[:, None])
        wcols = wcols * keep[:, None, :]
        return wcols, defect

    w_l, def_l = coupling(gam_l, n_l, "left")
    w_r, def_r = coupling(gam_r, n_r, "right")
    x, g, gl00 = _sweep(e, hs, vs, sig_l, sig_r, w_l)
    # T = Tr[Γ_R G_{M−1,0} Γ_L G_{M−1,0}†]
    trans = np.real(np.einsum("bij,bji->b", gam_r @ x @ gam_l, _h(x)))
    # Γ_L on the slab: rank ≤ N_L; a smaller rank (slab decoupled from some channels) is
    # allowed, a non-zero part beyond the N largest or a negative eigenvalue is not
    scale_l = np.maximum(1.0, np.max(np.abs(gam_l), axis=(1, 2)))
    scale_r = np.maximum(1.0, np.max(np.abs(gam_r), axis=(1, 2)))
    with np.errstate(invalid="ignore"):
        gam_bad = ~((def_l * np.where(n_l > 0, 1.0, 1.0 / scale_l) <= residual_tol * 1e2)
                    & (def_r * np.where(n_r > 0, 1.0, 1.0 / scale_r) <= residual_tol * 1e2))
    t_mw = 1j * (_h(w_r) @ x @ w_l)  # t
    rp_mw = 1j * (_h(w_r) @ g @ w_r)  # r' + 1 (on the N_R columns)
    r_mw = 1j * gl00
    idx_l = np.arange(w_l.shape[2])
    idx_r = np.arange(w_r.shape[2])
    act_l = idx_l[None, :] >= (w_l.shape[2] - n_l[:, None])
    act_r = idx_r[None, :] >= (w_r.shape[2] - n_r[:, None])
    r_mw[:, idx_l, idx_l] -= act_l
    rp_mw[:, idx_r, idx_r] -= act_r
    refl_l = np.sum(np.abs(r_mw) ** 2, axis=(1, 2))
    refl_r = np.sum(np.abs(rp_mw) ** 2, axis=(1, 2))
    t_w = np.sum(np.abs(t_mw) ** 2, axis=(1, 2))
    uerr = np.maximum(np.abs(n_l - trans - refl_l), np.abs(n_r - trans - refl_r))
    uerr = np.maximum(uerr, np.abs(trans - t_w))
    ok = reason == ""
    new = ok & gam_bad
    reason[new] = "broadening not positive semidefinite of rank N (inaccurate self-energy)"
    ok = reason == ""
    new = ok & ~(uerr <= unitarity_tol * np.maximum(1.0, np.maximum(n_l, n_r)))
    reason[new] = "reflection sum check failed"
    ok = reason == ""
    fb = ~ok
    trans = np.where(ok, trans, np.nan)
    uerr = np.where(ok, uerr, np.nan)
    n_l = np.where(ok, n_l, -1)
    n_r = np.where(ok, n_r, -1)
    if np.any(fb):
        if not fallback:
            b = int(np.flatnonzero(fb)[0])
            raise ValueError(f"batch element {b}: batched result rejected ({reason[b]}); "
                             "call with fallback=True")
        from .solver import smatrix

        for b in np.flatnonzero(fb):
            try:
                res = smatrix(hl[b], vl[b], [y[b] for y in hs], [y[b] for y in vs], hr[b], vr[b], e)
            except ValueError as exc:
                raise ValueError(f"batch element {int(b)}: {exc}") from exc
            trans[b], n_l[b], n_r[b] = res.transmission(), res.n_left, res.n_right
            uerr[b] = res.unitarity_error()
    return BatchedResult(transmission=trans, n_left=n_l.astype(int), n_right=n_r.astype(int),
                         unitarity_error=uerr, fallback=fb, reason=tuple(str(s) for s in reason), energy=e)


def _sweep(e, hs, vs, sig_l, sig_r, w_l):
    """Left-connected RGF sweep over the slab layers.

    g_i = (E − h_i − v_i† g_{i−1} v_i [− Σ_L on layer 0, − Σ_R on layer M−1])^{-1};
    X_i = G^{(i)}_{i,0} = g_i v_i† X_{i−1}; the row ρ_i = W_L† G^{(i)}_{0,i} = ρ_{i−1} v_i g_i
    and W_L† G^{(i)}_{00} W_L = (previous) + ρ_{i−1} v_i X_i W_L (Dyson accumulation).

    Returns
    -------
    tuple
        (G_{M−1,0}, G_{M−1,M−1}, W_L† G_00 W_L).
    """
    m = len(hs)
    g = x = row = acc = None
    for i in range(m):
        a = -hs[i]
        a = a + e * np.eye(a.shape[1])
        if i == 0:
            a = a - sig_l
        else:
            a = a - _h(vs[i]) @ g @ vs[i]
        if i == m - 1:
            a = a - sig_r
        g = _inv_checked(a)[0]
        if i == 0:
            x = g
            row = _h(w_l) @ g
            acc = row @ w_l
        else:
            x = g @ (_h(vs[i]) @ x)
            rv = row @ vs[i]
            acc = acc + rv @ (x @ w_l)
            row = rv @ g
    return x, g, acc
