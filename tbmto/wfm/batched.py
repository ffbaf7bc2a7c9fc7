r"""Transmission of many small lead | slab | lead systems at once (batched over k∥).

:func:`transmission_batched` takes the blocks of B independent systems — typically the k∥
points of one structure — as stacked arrays and returns the Landauer transmission
T = Tr t†t and the numbers of propagating channels of every system, computed with stacked
``numpy.linalg`` calls (``svd``, ``inv``, ``eig``, ``eigh``, ``qr`` on (B, n, n) arrays; the
only Python loop runs over slab layers). Each result equals ``smatrix(...).transmission()``,
``n_left``, ``n_right`` of the per-k path (:func:`tbmto.wfm.smatrix`) to round-off.
Conventions as in :mod:`tbmto.wfm`: K = E − H, H_{j,j+1} = v, energies in the model's unit
(Ry for the MTO caller, which passes H = S^α − P^α(E_F) at E = 0).

Method
------
*Leads* (Ando, PRB 44, 8017 (1991); the SVD-compressed pencil of
:func:`tbmto.wfm.leads.lead_modes`). First ``decimation`` (default 2) cell-doubling steps
(Sancho, Lopez Sancho & Rubio, J. Phys. F 15, 851 (1985)) replace the lead (h, v) by the
exact chain of every 2^j-th cell at this energy: Bloch factors λ → λ^(2^j), same cell
amplitudes. Screened MTO hoppings have many strongly evanescent solutions (for 1×1 Cu
[001] 22 of the 36 decaying ones have |λ| ~ 1e−5), which after two steps leave the
decimated hopping α_j numerically rank deficient: its compressed pencil is 2 × 12…20
instead of 2 × 36. Singular values of α_j below 1e−14 of the largest are dropped (their
share of Σ is below round-off); a step is taken only where E − ε_j is well conditioned
(rcond > 1e−4), otherwise the element stops at fewer steps. With v = P Q† (SVD, rank r:
the trivial λ = 0, ∞ solutions drop out exactly), a unimodular shift σ that makes
M_σ = E − h − σv − σ*v† well conditioned and G_σ = M_σ⁻¹, the Bloch problem
(E − h − λv − λ⁻¹v†)u = 0 is a 2r × 2r pencil; the Möbius map μ = (λ − a)/(1 − a*λ)
(unit circle → unit circle, λ = 0, ∞ → finite points) turns it into a standard matrix T.
Where ``lead_modes`` uses a reordered Schur form (which numpy cannot batch), T is
diagonalised here by the stacked ``numpy.linalg.eig``. Bloch factors are classified as in
``lead_modes`` (| |λ| − 1 | < ``prop_tol``: propagating, the direction from the sign of
the probability current J = −2 Im(λ u†v u)); the right-going set (|λ| < 1 or
right-moving) and the left-going set are orthonormalised by QR — only their *spans*
matter, not the individual (possibly ill-conditioned or degenerate) eigenvectors, so no
current diagonalisation of degenerate modes is needed — and give, from the upper (C) and
lower (D) halves of the bases and without inverting a mode matrix,

.. math::  \Sigma_+ = v F_+ = -\sigma^{-1} P\, C D^{-1} P^\dagger, \qquad
           \Sigma_- = v^\dagger \tilde F_-^{-1} = -\sigma\, Q\, D C^{-1} Q^\dagger

of the (decimated) bulk chain; the surface Green's functions of the original leads are
g₊ = (E − ε_R,j − Σ₊^(j))⁻¹, g₋ = (E − ε_L,j − Σ₋^(j))⁻¹ with the decimated end-cell
onsite blocks, and Σ₊ = v g₊ v†, Σ₋ = v† g₋ v.

*Slab* (Caroli, Combescot, Nozières & Saint-James, J. Phys. C 4, 916 (1971); Fisher &
Lee, PRB 23, 6851 (1981)). With g_L = (E − h_L − Σ₋)⁻¹, g_R = (E − h_R − Σ₊)⁻¹,
Σ_L = v_0† g_L v_0 on slab layer 0 and Σ_R = v_M g_R v_M† on layer M−1, a left-connected
recursive Green's function sweep (one stacked n × n inverse and a few products per layer)
gives G_{M−1,0} and

.. math::  T = \mathrm{Tr}\,[\Gamma_R\, G_{M-1,0}\, \Gamma_L\, G_{M-1,0}^\dagger], \qquad
           \Gamma_{L,R} = i(\Sigma_{L,R} - \Sigma_{L,R}^\dagger),

which is independent of any mode basis. N_left, N_right are the numbers of right-going
propagating modes of the left and right lead (``SMatrixResult.n_left``, ``n_right``).

*Symmetry-related leads* (optional, :class:`LeadMap`). If the lead blocks of element b are
those of element s transformed by a unitary U, h_b = U h_s U†, v_b = U v_s U†, then
Σ±_b = U Σ±_s U†; for an antiunitary Θ = U K (time reversal, k∥ → −k∥),
h_b = U h_s* U†, v_b = U v_s* U†, and Σ±_b = U (Σ±_s)ᵀ U† (time reversal exchanges
incoming and outgoing modes, so the retarded self-energy maps to the transpose). The
relation of the blocks is verified for every mapped element (relative 1e−10; elements
that fail are solved), and the mapped self-energies pass the same a-posteriori checks.
This halves the lead eigenproblems on a k mesh closed under k → −k for a lead with
time-reversal symmetry; point-group operations (U from the model's orbital rotation
matrices) reduce them further.

Checks and fallback
-------------------
A batch element is recomputed with the per-k :func:`tbmto.wfm.smatrix` (and flagged in
``BatchedResult.fallback``, with the reason) when any of these fails; the batched number is
never returned unverified:

* a regular shift σ (reciprocal 1-norm condition of M_σ > 1e−8) and a well-conditioned
  Möbius denominator (> 1e−7) exist, as in ``lead_modes``, and ``eig`` converges;
* no Bloch factor lies in the ambiguous zone 0.1 prop_tol ≤ | |λ| − 1 | ≤ 100 prop_tol
  (near a band edge the per-k Schur path and the batched eigenvalues could classify a
  mode differently), and every propagating mode has |J|/|u|² > ``velocity_tol`` ·
  max(1, max|v|) (not at a band edge);
* the right-going and the left-going sets have r members each;
* no right- and left-moving propagating modes have Bloch factors closer than 100 prop_tol
  (a band extremum within ~1e−8 of the energy: a Jordan block, which ``lead_modes``
  refuses);
* the current form on the propagating eigenvectors agrees with the classification: no
  cross current (> 1e−6, normalised) between right- and left-movers and definite within
  each direction (a degenerate right/left pair that ``eig`` returned mixed is caught);
* the selected eigenvectors are linearly independent (min/max |R_ii| of their QR factor
  ≥ ``basis_tol``) and D (resp. C) is invertible (rcond ≥ 1e−13, as in ``lead_modes``);
* the self-energies and surface Green's functions satisfy g = (E − h − Σ)⁻¹, Σ₊ = v g₊ v†
  and Σ₋ = v† g₋ v — together the defining quadratic equations Σ₊ = v (E − h − Σ₊)⁻¹ v†,
  Σ₋ = v† (E − h − Σ₋)⁻¹ v — to relative residuals below ``residual_tol`` (this also
  verifies decimated and symmetry-mapped self-energies against the original blocks);
* Γ_L, Γ_R are positive semidefinite of rank ≤ N_L, N_R (eigenvalues outside the N largest,
  or negative ones, below 100 ``residual_tol`` · max|Σ|), and with Γ = W W† on the N
  largest eigenpairs the Mahaux–Weidenmüller S = −1 + i W†GW conserves current:
  |N_R − T − Tr r′†r′| and |T − Tr t†t| below ``unitarity_tol`` · max(1, N), returned per
  element as ``unitarity_error`` (the left reflection sum is equivalent to the rank
  defect of Γ_L, already tested);
* every slab layer's Green's function is regular (rcond > 1e−14).

Performance
-----------
1×1 Cu [001] with SOC (n = 36, L = 4; ``benchmarks/bench_batched.py``, one core): the per-k
``smatrix`` costs ≈ 5 ms per k-point, of which ≈ 1.8 ms is the LAPACK eigen/Schur
decomposition of the 72 × 72 lead matrix that any full-pencil method needs — batching
alone (``decimation=0``) gives only ≈ 1.5×. With the default two decimation steps the
batched solve costs ≈ 1.3–1.5 ms per k-point (≈ 3.5×), ≈ 1.1–1.3 ms with the
time-reversal :class:`LeadMap` (≈ 4×); the rest is ~30 stacked 36 × 36 products and
inverses per k-point (decimation, surface Green's functions, four slab layers, the checks).
For small blocks without screening the gain is larger (n = 2: ≈ 24×, n = 8: ≈ 8×).

Limits
------
* Transmission and channel counts only: no r, t matrices over flux-normalised modes and
  **no ∂S/∂θ** (Gilbert damping) in the batched path — use :func:`tbmto.wfm.smatrix` /
  :func:`~tbmto.wfm.smatrix_nested` for those. No nested lengths (one closure per call).
* All systems of one call share M and the block sizes (stack one structure's k∥ points).
* Memory ~ 12 (2r)² complex numbers per element for the lead eigenproblem, see
  :func:`batch_size_for`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tbmto.errors import LeadModeError

from .validate import HERMITIAN_RTOL, check_energy

__all__ = ["BatchedResult", "BatchedLeads", "LeadMap", "transmission_batched", "lead_self_energies_batched",
           "batch_size_for", "stack_blocks"]

#: Trial shift phases σ = e^{iφ} (golden-angle steps, as in :mod:`tbmto.wfm.leads`).
_SHIFT_PHASES = 0.7 + 2.399963229728653 * np.arange(6)
#: Trial Möbius parameters a (as in :mod:`tbmto.wfm.leads`).
_MOBIUS = 0.5 * np.exp(1j * (0.3 + 2.399963229728653 * np.arange(6)))
#: A trial shift σ or Möbius parameter a is accepted at once above this reciprocal 1-norm
#: condition number (it costs at most log10(1/rcond) digits, and every result is checked
#: a posteriori); otherwise the best of further trials is kept.
_ACCEPT = 1e-3
#: Relative tolerance of the block relation h_b = U op(h_s) U† of a :class:`LeadMap`.
_MAP_TOL = 1e-10


@dataclass(frozen=True)
class BatchedResult:
    """Transmission and channel counts of B systems (one entry per batch element).

    Attributes
    ----------
    transmission : numpy.ndarray
        (B,) Landauer transmission T = Tr t†t (conductance in units of e²/h).
    n_left, n_right : numpy.ndarray
        (B,) int, propagating channels of the left / right lead.
    noise : numpy.ndarray
        (B,) Tr t†t(1 − t†t), the shot-noise trace (:meth:`tbmto.wfm.SMatrixResult.noise_trace`),
        from t = W_R† G_{M−1,0} W_L (equal to the S-matrix t up to unitary rotations of the
        channels, which leave the trace unchanged).
    unitarity_error : numpy.ndarray
        (B,) current-conservation check: for batched elements the larger of
        |N_R − T − Tr r′†r′| and |T − Tr t†t| of the Mahaux–Weidenmüller S-matrix built
        from the rank-N broadenings (module docstring); for fallback elements
        ``SMatrixResult.unitarity_error()`` = max|S†S − 1|.
    fallback : numpy.ndarray
        (B,) bool, True where the element was recomputed with :func:`tbmto.wfm.smatrix`.
    reason : tuple of str
        Per element the check that sent it to the fallback ("" for batched elements).
    energy : float
        Energy E of K = E − H (model unit).
    n_lead_solves : int
        Lead eigenproblems solved in the batched path (left and right lead counted
        separately unless identical; elements mapped by a :class:`LeadMap` not counted).
    n_mapped : int
        Lead self-energy sets obtained from a :class:`LeadMap` instead (counted like
        ``n_lead_solves``).
    """

    transmission: np.ndarray
    n_left: np.ndarray
    n_right: np.ndarray
    noise: np.ndarray
    unitarity_error: np.ndarray
    fallback: np.ndarray
    reason: tuple
    energy: float
    n_lead_solves: int = 0
    n_mapped: int = 0

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
        (B, n, n) Σ₊ = v F₊: self-energy on a cell from the semi-infinite lead on its right
        (as ``LeadModes.self_energy_right``).
    self_energy_left : numpy.ndarray
        (B, n, n) Σ₋ = v† F̃₋⁻¹: self-energy on a cell from the lead on its left.
    surface_green_right, surface_green_left : numpy.ndarray
        (B, n, n) (E − h − Σ₊)⁻¹, the surface Green's function of the lead running to +∞
        (its first cell), and (E − h − Σ₋)⁻¹, that of the lead running to −∞ (its last cell).
    n_modes : numpy.ndarray
        (B,) int, propagating modes per direction.
    ok : numpy.ndarray
        (B,) bool, False where a check failed (the values there must not be used).
    reason : list of str
        Per element the failed check ("" where ``ok``).
    n_solved : int
        Elements whose eigenproblem was solved (the others were mapped or had r = 0).
    """

    self_energy_right: np.ndarray
    self_energy_left: np.ndarray
    surface_green_right: np.ndarray
    surface_green_left: np.ndarray
    n_modes: np.ndarray
    ok: np.ndarray
    reason: list
    n_solved: int = 0


@dataclass(frozen=True)
class LeadMap:
    """Batch elements whose lead self-energies follow from another element's by a symmetry.

    For every b with ``source[b] = s ≥ 0`` the lead blocks must satisfy
    h_b = U op(h_s) U†, v_b = U op(v_s) U† with op = identity for a unitary symmetry and
    complex conjugation for an antiunitary one (Θ = U K, e.g. time reversal mapping k∥ to
    −k∥); then Σ±_b = U Σ±_s U† (unitary) or U (Σ±_s)ᵀ U† (antiunitary). The relation is
    verified per element (relative tolerance 1e−10 of max|h|, max|v|); where it fails,
    the lead of b is solved instead. Sources must themselves be solved (source[s] = −1).

    Attributes
    ----------
    source : array_like of int
        (B,) index of the source element, or −1 (solve this element's leads).
    u_left : array_like
        Unitary U of the left lead: (n_L, n_L), or (B, n_L, n_L) per element.
    u_right : array_like, optional
        Unitary of the right lead, (n_R, n_R) or (B, n_R, n_R); needed only when the right
        lead differs from the left one (otherwise ``u_left`` is used).
    antiunitary : bool or array_like of bool
        Per element (or for all): the map is Θ = U K (True) or U (False).
    """

    source: object
    u_left: object
    u_right: object = None
    antiunitary: object = False


def batch_size_for(n: int, memory_bytes: float = 64e6, max_batch: int = 256) -> int:
    """Batch size B for systems whose largest block (lead or slab layer) has n orbitals.

    The lead eigenproblem dominates memory: about 12 complex (2n)² arrays per element (T,
    its eigenvectors, LAPACK work space, the Möbius inverse, the bases), plus a few n × n
    arrays per slab layer. B = ``memory_bytes`` / (12 · 16 bytes · (2n)²), clipped to
    [1, ``max_batch``]. For n = 36 this gives B = 64 (~60 MB): the time per element is
    flat for B ≈ 16–64 and grows again beyond (the working set leaves the caches;
    ``benchmarks/bench_batched.py --batch-scan``); small n get large batches.

    Parameters
    ----------
    n : int
        Largest block size (orbitals per principal layer).
    memory_bytes : float
        Budget of one batch (bytes).
    max_batch : int
        Upper limit of B.

    Returns
    -------
    int
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer (orbitals per block), got {n!r}")
    if not (isinstance(memory_bytes, (int, float, np.floating)) and memory_bytes > 0):
        raise ValueError(f"memory_bytes must be a positive number, got {memory_bytes!r}")
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
    scale = np.maximum(1.0, _maxabs(a))
    err = _maxabs(a - np.conj(np.swapaxes(a, 1, 2)))  # max(|Re|, |Im|) of H − H†
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


def _eig(t: np.ndarray):
    """Stacked eigen-decomposition; elements on which LAPACK fails get NaN (and are rejected)."""
    try:
        return np.linalg.eig(t)
    except np.linalg.LinAlgError:
        mu = np.full(t.shape[:2], np.nan, complex)
        y = np.full(t.shape, np.nan, complex)
        for i in range(t.shape[0]):
            try:
                mu[i], y[i] = np.linalg.eig(t[i])
            except np.linalg.LinAlgError:
                pass
        return mu, y


def _mobius_pencil(h, v, e, r, p_mat, q_mat):
    """The Möbius-transformed compressed lead pencil of :func:`tbmto.wfm.lead_modes`, stacked.

    Returns
    -------
    tuple
        (T, σ, a, G_σP, G_σQ, reason): the 2r × 2r standard matrices whose
        eigenvalues μ give λ = (μ + a)/(1 + a*μ), the shifts and Möbius parameters, the
        products needed to map pencil vectors to orbital space, and per element the
        failed check ("" if none).
    """
    bsz, n, _ = h.shape
    reason = np.full(bsz, "", dtype=object)

    def fail(mask, why):
        reason[mask & (reason == "")] = why

    e_minus_h = -h
    e_minus_h = e_minus_h + e * np.eye(n)
    v_dag = _h(v)
    # shift σ: M_σ = E − h − σv − σ*v† (Hermitian, invertible for σ not a Bloch factor);
    # the best conditioned of a few trials, as in lead_modes
    sigma = np.zeros(bsz, complex)
    g_sig = np.zeros((bsz, n, n), complex)
    best = np.full(bsz, -1.0)
    todo = np.arange(bsz)
    for k, phase in enumerate(_SHIFT_PHASES):
        s = complex(np.exp(1j * phase))
        inv, rc = _inv_checked(e_minus_h[todo] - s * v[todo] - np.conj(s) * v_dag[todo])
        better = rc > best[todo]
        idx = todo[better]
        best[idx], sigma[idx], g_sig[idx] = rc[better], s, inv[better]
        todo = todo[best[todo] <= (_ACCEPT if k < 3 else 1e-6)]
        if todo.size == 0:
            break
    fail(~(best > 1e-8), "no regular shift sigma (M_sigma singular)")
    pq = np.concatenate([p_mat, q_mat], axis=2)
    g_pq = g_sig @ pq  # G_σ (P Q)
    g_p, g_q = g_pq[:, :, :r], g_pq[:, :, r:]
    s_mat = _h(np.concatenate([q_mat, p_mat], axis=2)) @ g_pq  # ((Q†GP, Q†GQ), (P†GP, P†GQ))
    m2 = 2 * r
    # Möbius map: T = κ + (B − a*A)⁻¹ D, B − a*A = (1 − a*σ) S + diag(−a*, σ) (lead_modes)
    t_mat = np.zeros((bsz, m2, m2), complex)
    a_par = np.zeros(bsz, complex)
    best = np.full(bsz, -1.0)
    todo = np.arange(bsz)
    dg = np.arange(m2)
    for k, a in enumerate(_MOBIUS):
        sg = sigma[todo]
        b_mob = (1.0 - np.conj(a) * sg)[:, None, None] * s_mat[todo]
        b_mob[:, dg[:r], dg[:r]] -= np.conj(a)
        b_mob[:, dg[r:], dg[r:]] += sg[:, None]
        inv, rc = _inv_checked(b_mob)
        better = rc > best[todo]
        idx = todo[better]
        if idx.size:
            kappa = ((sg - a) / (1.0 - np.conj(a) * sg))[better]
            d_diag = np.empty((idx.size, m2), complex)
            d_diag[:, :r] = (1.0 + kappa * np.conj(a))[:, None]
            d_diag[:, r:] = (-(a + kappa) * sg[better])[:, None]
            tt = inv[better] * d_diag[:, None, :]
            tt[:, dg, dg] += kappa[:, None]
            best[idx], a_par[idx], t_mat[idx] = rc[better], a, tt
        todo = todo[best[todo] <= (_ACCEPT if k < 2 else 1e-5)]
        if todo.size == 0:
            break
    fail(~(best > 1e-7), "no well-conditioned Moebius transform")
    t_mat[reason != ""] = np.eye(m2)  # keep eig finite on rejected elements
    return t_mat, sigma, a_par, g_p, g_q, reason


def _leads_rank(h, v, e, r, p_mat, q_mat, prop_tol, velocity_tol, basis_tol):
    """Self-energies of a stack of leads whose hoppings all have rank r ≥ 1 (v = P Q†).

    Returns
    -------
    tuple
        (Σ₊, Σ₋, N, reason) per element (reason "" where every check passed).
    """
    bsz = h.shape[0]
    m2 = 2 * r
    t_mat, sigma, a_par, g_p, g_q, reason = _mobius_pencil(h, v, e, r, p_mat, q_mat)

    def fail(mask, why):
        reason[mask & (reason == "")] = why

    mu, y = _eig(t_mat)
    if not np.all(np.isfinite(mu)):
        fail(~np.all(np.isfinite(mu), axis=1), "eigen-decomposition failed")
        mu = np.where(np.isfinite(mu), mu, 0.0)
        y = np.where(np.isfinite(y), y, 0.0)
    ap = a_par[:, None]
    den = 1.0 + np.conj(ap) * mu
    lam = (mu + ap) / den
    mod = np.abs(lam)
    dev = np.abs(mod - 1.0)
    fail(np.any((dev >= 0.1 * prop_tol) & (dev <= 100 * prop_tol), axis=1),
         "a Bloch factor is too close to the propagating threshold (band edge)")
    inside = mod < 1.0 - prop_tol
    outside = mod > 1.0 + prop_tol
    prop = ~(inside | outside)
    n_prop = np.sum(prop, axis=1)
    jsign = np.zeros((bsz, m2))
    if np.any(n_prop):
        # propagating eigenvectors only: u = G_σ(P c + Q d), current form
        # J_ab = i(λ_b u_a†v u_b − conj(λ_a) u_a†v†u_b), J_aa = −2 Im(λ u†v u)
        pmax = int(np.max(n_prop))
        order = np.argsort(~prop, axis=1, kind="stable")[:, :pmax]
        valid = np.arange(pmax)[None, :] < n_prop[:, None]
        yp = np.take_along_axis(y, order[:, None, :], axis=2)
        lp = np.take_along_axis(lam, order, axis=1)
        lp = np.where(valid, lp / np.where(valid, np.abs(lp), 1.0), 0.0)
        up = g_p @ yp[:, :r] + g_q @ yp[:, r:]
        w = _h(up) @ (v @ up)
        jm = 1j * (lp[:, None, :] * w - np.conj(lp)[:, :, None] * _h(w))
        jd = np.real(np.diagonal(jm, axis1=1, axis2=2))
        unorm = np.sum(np.abs(up) ** 2, axis=1)
        vel_scale = np.maximum(1.0, np.max(np.abs(v), axis=(1, 2)))[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            slow = valid & ~(np.abs(jd) > velocity_tol * vel_scale * unorm)
        fail(np.any(slow, axis=1), "a propagating mode has (near) zero velocity (band edge)")
        sgn = np.where(valid, np.sign(jd), 0.0)
        np.put_along_axis(jsign, order, sgn, axis=1)
        # consistency of the classification: no cross current between right- and left-movers,
        # the current form definite within each direction (a degenerate right/left pair that
        # eig returned mixed shows up here)
        dj = np.where(valid & (np.abs(jd) > 0), np.sqrt(np.abs(jd)), 1.0)
        jt = jm / (dj[:, :, None] * dj[:, None, :])
        pair = valid[:, :, None] & valid[:, None, :]
        cross = pair & (sgn[:, :, None] != sgn[:, None, :])
        # a right- and a left-mover with nearly equal λ: a band extremum (Jordan block) within
        # ~1e-8 of the energy, where lead_modes refuses or the split is ill-determined
        close = np.abs(lp[:, :, None] - lp[:, None, :]) < 100 * prop_tol
        fail(np.any(cross & close, axis=(1, 2)),
             "opposite-moving propagating modes nearly degenerate (band edge)")
        fail(np.any(cross & (np.abs(jt) > 1e-6), axis=(1, 2)), "current form mixes right- and left-going modes")
        jdef = np.where(pair & ~cross, jt * sgn[:, :, None], 0.0)
        jdef[:, np.arange(pmax), np.arange(pmax)] = np.where(valid, np.abs(jd) / dj ** 2, 1.0)
        jdef = 0.5 * (jdef + _h(jdef))
        fail(np.linalg.eigvalsh(jdef)[:, 0] < 1e-6, "current form not definite within one direction")
    right = inside | (jsign > 0)
    left = outside | (jsign < 0)
    n_modes = np.sum(jsign > 0, axis=1)
    fail((np.sum(right, axis=1) != r) | (np.sum(left, axis=1) != r),
         "inconsistent numbers of right- and left-going solutions")
    first = np.arange(m2)[None, :] < r  # placeholder selection on rejected elements

    def ratio_of(sel, top_num):
        """num · den⁻¹ from an orthonormal basis of the span of the selected eigenvectors."""
        sel = np.where((reason == "")[:, None], sel, first)
        order = np.argsort(~sel, axis=1, kind="stable")[:, :r]
        qb, rb = np.linalg.qr(np.take_along_axis(y, order[:, None, :], axis=2))
        rdiag = np.abs(np.diagonal(rb, axis1=1, axis2=2))
        indep = np.min(rdiag, axis=1) / np.max(rdiag, axis=1)
        num, den_ = (qb[:, :r], qb[:, r:]) if top_num else (qb[:, r:], qb[:, :r])
        inv, rc = _inv_checked(den_)
        return num @ inv, indep, rc

    cd_r, ind_r, rc_r = ratio_of(right, True)  # C D⁻¹ of the right-going set
    dc_l, ind_l, rc_l = ratio_of(left, False)  # D C⁻¹ of the left-going set
    fail(~(np.minimum(ind_r, ind_l) >= basis_tol), "mode eigenvectors nearly linearly dependent")
    fail(~(np.minimum(rc_r, rc_l) >= 1e-13), "lead self-energy singular (surface resonance)")
    sig_r = (-1.0 / sigma)[:, None, None] * (p_mat @ cd_r @ _h(p_mat))
    sig_l = (-sigma)[:, None, None] * (q_mat @ dc_l @ _h(q_mat))
    return sig_r, sig_l, n_modes, reason


def _decimate(h, v, e, steps):
    """``steps`` cell-doubling (Sancho–Rubio) steps of a stack of leads.

    Eliminating every second cell of the chain (onsite ε, coupling α = H_{j,j+1}, β = α†,
    g = (E − ε)⁻¹) gives the chain of the remaining cells, exactly at this energy:
    α′ = α g α, ε′ = ε + α g β + β g α, and for the end cells ε_R′ = ε_R + α g β (first
    cell of a lead running to +∞) and ε_L′ = ε_L + β g α (last cell of a lead to −∞).
    After j steps the Bloch factors are λ^(2^j) with the same cell amplitudes: strongly
    evanescent solutions (|λ| ≪ 1, most of them for screened MTO hoppings) leave α_j
    numerically rank deficient, so the compressed pencil of the decimated lead is much
    smaller than 2 rank(v).

    Returns
    -------
    tuple
        (stages, rc): stages[j] = (ε_j, α_j, ε_R,j, ε_L,j) for j = 0 … steps, and rc (B, steps)
        the reciprocal condition of E − ε_{j} inverted in step j + 1.
    """
    eps = eps_r = eps_l = h
    alpha = v
    eye = np.eye(h.shape[1])
    stages = [(eps, alpha, eps_r, eps_l)]
    rcs = []
    for _ in range(steps):
        g, rc = _inv_checked(e * eye - eps)
        rcs.append(rc)
        ga = g @ alpha
        agb = alpha @ (g @ _h(alpha))
        bga = _h(alpha) @ ga
        eps_r = eps_r + agb
        eps_l = eps_l + bga
        eps = eps + agb + bga
        eps = 0.5 * (eps + _h(eps))  # Hermitian up to round-off: make it exact
        alpha = alpha @ ga
        stages.append((eps, alpha, eps_r, eps_l))
    return stages, np.stack(rcs, axis=1) if rcs else np.zeros((h.shape[0], 0))


#: A decimation step is used only where E − ε has a reciprocal condition above this (each
#: step costs about log10(1/rcond) digits); elements stop at the last good step.
_DECIMATION_RCOND = 1e-4
#: Relative singular-value threshold of the decimated hopping α_j (j ≥ 1): solutions with
#: |λ|^(2^j) below it are dropped (their share of Σ is below round-off).
_DECIMATED_RANK_TOL = 1e-14


def _solve_leads(h, v, e, prop_tol, rank_tol, velocity_tol, basis_tol, decimation):
    """(Σ₊, Σ₋, g₊, g₋, N, reason) of a stack of leads, after up to ``decimation`` doubling
    steps; g₊ = (E − h − Σ₊)⁻¹ and g₋ = (E − h − Σ₋)⁻¹ are the surface Green's functions."""
    bsz = h.shape[0]
    eye = np.eye(h.shape[1])
    if decimation == 0 or bsz == 0:
        s_r, s_l, nm, why = _solve_plain(h, v, e, prop_tol, rank_tol, velocity_tol, basis_tol)
        return s_r, s_l, _inv_checked(e * eye - h - s_r)[0], _inv_checked(e * eye - h - s_l)[0], nm, why
    stages, rc = _decimate(h, v, e, decimation)
    steps = np.sum(np.cumprod(rc > _DECIMATION_RCOND, axis=1), axis=1)  # leading good steps
    out = [np.zeros_like(h) for _ in range(4)] + [np.zeros(bsz, int), np.full(bsz, "", dtype=object)]
    for j in np.unique(steps):
        idx = np.flatnonzero(steps == j)
        eps, alpha, eps_r, eps_l = (x[idx] for x in stages[j])
        # |λ|^(2^j) − 1 ≈ 2^j (|λ| − 1): the same propagating threshold (and ambiguous zone) in λ
        s_r, s_l, nm, why = _solve_plain(eps, alpha, e, prop_tol * 2**j, rank_tol if j == 0 else _DECIMATED_RANK_TOL,
                                         velocity_tol, basis_tol)
        # surface Green's functions of the original leads (the surface cells of the decimated
        # chains) and their self-energies on the neighbouring cell
        g_r = _inv_checked(e * eye - eps_r - s_r)[0]
        g_l = _inv_checked(e * eye - eps_l - s_l)[0]
        if j:
            vv = v[idx]
            s_r = vv @ g_r @ _h(vv)
            s_l = _h(vv) @ g_l @ vv
        for o, x in zip(out, (s_r, s_l, g_r, g_l, nm, why)):
            o[idx] = x
    return tuple(out)


def _solve_plain(h, v, e, prop_tol, rank_tol, velocity_tol, basis_tol):
    """Σ₊, Σ₋, N, reason of a stack of leads (grouped by the rank of v)."""
    bsz, n, _ = h.shape
    sig_r = np.zeros((bsz, n, n), complex)
    sig_l = np.zeros((bsz, n, n), complex)
    n_modes = np.zeros(bsz, int)
    reason = np.full(bsz, "", dtype=object)
    if bsz == 0:
        return sig_r, sig_l, n_modes, reason
    uu, sv, vh = np.linalg.svd(v)
    rank = np.where(sv[:, 0] > 0, np.sum(sv > rank_tol * sv[:, :1], axis=1), 0)
    for r in np.unique(rank):
        r = int(r)
        if r == 0:
            continue  # decoupled lead cells: no modes, zero self-energies (as lead_modes)
        idx = np.flatnonzero(rank == r)
        root = np.sqrt(sv[idx, :r])
        p_mat = uu[idx, :, :r] * root[:, None, :]
        q_mat = _h(vh[idx, :r, :]) * root[:, None, :]
        out = _leads_rank(h[idx], v[idx], e, r, p_mat, q_mat, prop_tol, velocity_tol, basis_tol)
        sig_r[idx], sig_l[idx], n_modes[idx], reason[idx] = out
    return sig_r, sig_l, n_modes, reason


def _finish_leads(h, v, e, sig_r, sig_l, g_r, g_l, n_modes, reason, residual_tol, n_solved) -> BatchedLeads:
    """A-posteriori check of the self-energies: g = (E − h − Σ)⁻¹ and Σ₊ = v g₊ v†,
    Σ₋ = v† g₋ v (together: the defining quadratic equations), as relative residuals."""
    n = h.shape[1]
    e_minus_h = e * np.eye(n) - h
    reason = reason.copy()
    vn2 = _maxabs(v) ** 2
    ok = np.ones(h.shape[0], bool)
    with np.errstate(invalid="ignore", over="ignore"):
        for sig, g, prod in ((sig_r, g_r, v @ g_r @ _h(v)), (sig_l, g_l, _h(v) @ g_l @ v)):
            k = e_minus_h - sig
            gn = np.maximum(1.0, _maxabs(g))
            ok &= _maxabs(k @ g - np.eye(n)) <= residual_tol * np.maximum(1.0, _maxabs(k) * gn) * n
            ok &= _maxabs(sig - prod) <= residual_tol * vn2 * gn
    reason[(reason == "") & ~ok] = "lead self-energy residual too large"
    return BatchedLeads(self_energy_right=sig_r, self_energy_left=sig_l, surface_green_right=g_r,
                        surface_green_left=g_l, n_modes=n_modes, ok=reason == "", reason=list(reason),
                        n_solved=int(n_solved))


def _maxabs(a: np.ndarray) -> np.ndarray:
    """max over the last two axes of max(|Re|, |Im|) (within √2 of max|a|, faster than abs;
    max|a| for a non-contiguous stack)."""
    if a.dtype == np.complex128 and a.flags.c_contiguous:
        return np.max(np.abs(a.view(np.float64)), axis=(-2, -1))
    return np.max(np.abs(a), axis=(-2, -1))


def _leads(h, v, e, tol, decimation, mapped=None) -> BatchedLeads:
    """Lead self-energies of a stack; ``mapped`` = (source, U, antiunitary, use) applies a
    verified :class:`LeadMap` to the elements with ``use`` True."""
    prop_tol, rank_tol, velocity_tol, basis_tol, residual_tol = tol
    bsz = h.shape[0]
    solve = np.ones(bsz, bool) if mapped is None else ~mapped[3]
    idx = np.flatnonzero(solve)
    res = _solve_leads(h[idx], v[idx], e, prop_tol, rank_tol, velocity_tol, basis_tol, decimation)
    if idx.size == bsz:
        sig_r, sig_l, g_r, g_l, n_modes, reason = res
    else:
        sig_r, sig_l, g_r, g_l = (np.zeros_like(h) for _ in range(4))
        n_modes = np.zeros(bsz, int)
        reason = np.full(bsz, "", dtype=object)
        for o, x in zip((sig_r, sig_l, g_r, g_l, n_modes, reason), res):
            o[idx] = x
        src, u, anti, use = mapped
        m = np.flatnonzero(use)
        s = src[m]
        um, am = u[m], anti[m][:, None, None]
        umh = _h(um)
        for x in (sig_r, sig_l, g_r, g_l):  # X_b = U X_s U† (unitary) or U X_sᵀ U† (antiunitary)
            base = x[s]
            x[m] = um @ np.where(am, np.swapaxes(base, 1, 2), base) @ umh
        n_modes[m] = n_modes[s]
        reason[m] = [("source element: " + x) if x else "" for x in reason[s]]
    n_solved = int(np.count_nonzero(_maxabs(v[idx]) > 0)) if idx.size else 0
    return _finish_leads(h, v, e, sig_r, sig_l, g_r, g_l, n_modes, reason, residual_tol, n_solved)


def lead_self_energies_batched(h, v, energy: float = 0.0, *, decimation: int = 2, prop_tol: float = 1e-6,
                               rank_tol: float = 1e-12, velocity_tol: float = 1e-9, basis_tol: float = 1e-8,
                               residual_tol: float = 1e-10) -> BatchedLeads:
    """Σ₊, Σ₋, surface Green's functions and mode counts of B leads (stacked eig).

    The batched counterpart of the self-energies of :func:`tbmto.wfm.lead_modes` (module
    docstring: method and checks); no mode vectors are returned.

    Parameters
    ----------
    h, v : array_like
        (B, n, n) Hermitian onsite blocks and hoppings H_{j,j+1} of the leads.
    energy : float
        Real energy E (model unit).
    decimation : int
        Cell-doubling steps before the eigen-decomposition (see :func:`transmission_batched`).
    prop_tol, rank_tol : float
        As in :func:`tbmto.wfm.lead_modes` (``rank_tol`` for the undecimated hopping).
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
        raise ValueError(f"v must have the shape of h, {h.shape}, got {v.shape}")
    tol = _check_tols(prop_tol=prop_tol, rank_tol=rank_tol, velocity_tol=velocity_tol,
                      basis_tol=basis_tol, residual_tol=residual_tol)
    return _leads(h, v, e, tol, _check_decimation(decimation))


def _check_decimation(decimation) -> int:
    if isinstance(decimation, bool) or not isinstance(decimation, (int, np.integer)) or not 0 <= decimation <= 6:
        raise ValueError(f"decimation must be an integer in [0, 6] (cell-doubling steps), got {decimation!r}")
    return int(decimation)


def _check_tols(**tols) -> tuple:
    """The given tolerances as floats (in the given order), each checked to be positive and finite."""
    for name, val in tols.items():
        if isinstance(val, bool) or not (isinstance(val, (int, float, np.floating)) and np.isfinite(val) and val > 0):
            raise ValueError(f"{name} must be a positive finite number, got {val!r}")
    return tuple(float(x) for x in tols.values())


def _check_map(lead_map, bsz, hl, vl, hr, vr, same):
    """Validate a :class:`LeadMap` and verify the block relations; returns the per-lead
    (source, U, antiunitary, use) tuples."""
    if not isinstance(lead_map, LeadMap):
        raise ValueError(f"lead_map must be a LeadMap or None, got {type(lead_map).__name__}")
    try:
        src = np.asarray(lead_map.source)
    except (TypeError, ValueError) as exc:
        raise ValueError("lead_map.source must be an integer array of shape (B,)") from exc
    if src.shape != (bsz,) or not (np.issubdtype(src.dtype, np.integer) or src.size == 0):
        raise ValueError(f"lead_map.source must be an integer array of shape ({bsz},), got "
                         f"{src.dtype} array of shape {src.shape}")
    src = src.astype(int)
    if np.any((src < -1) | (src >= bsz)):
        raise ValueError(f"lead_map.source entries must be -1 or batch indices in [0, {bsz - 1}]")
    use = src >= 0
    if np.any(src[use] == np.flatnonzero(use)):
        raise ValueError("lead_map.source[b] must not be b itself (use -1 to solve element b)")
    if np.any(src[src[use]] >= 0):
        raise ValueError("lead_map.source must point to elements that are solved (source[source[b]] == -1)")
    anti = np.broadcast_to(np.asarray(lead_map.antiunitary, dtype=bool), (bsz,)) if np.ndim(
        lead_map.antiunitary) <= 1 else None
    if anti is None or anti.shape != (bsz,):
        raise ValueError(f"lead_map.antiunitary must be a bool or a bool array of shape ({bsz},)")

    def unitary(u, n, name):
        if u is None:
            raise ValueError(f"{name} is required: the right lead differs from the left lead")
        a = np.asarray(u, dtype=np.complex128)
        if a.shape == (n, n):
            a = np.broadcast_to(a, (bsz, n, n))
        if a.shape != (bsz, n, n):
            raise ValueError(f"{name} must have shape ({n}, {n}) or ({bsz}, {n}, {n}), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf entries")
        err = np.max(np.abs(_h(a) @ a - np.eye(n)), axis=(1, 2))
        if np.any(err > 1e-10):
            raise ValueError(f"{name} must be unitary: max|U^dagger U - 1| = {float(np.max(err)):.2e} "
                             f"(batch element {int(np.argmax(err))})")
        return a

    def verified(h, v, u):
        ok = np.zeros(bsz, bool)
        m = np.flatnonzero(use)
        if m.size:
            s, um, am = src[m], u[m], anti[m][:, None, None]
            umh = _h(um)
            for blk in (h, v):
                ref = blk[s]
                img = um @ np.where(am, np.conj(ref), ref) @ umh
                scale = np.maximum(1.0, np.max(np.abs(blk[m]), axis=(1, 2)))
                good = np.max(np.abs(img - blk[m]), axis=(1, 2)) <= _MAP_TOL * scale
                ok[m] = good if blk is h else ok[m] & good
        return ok

    ul = unitary(lead_map.u_left, hl.shape[1], "lead_map.u_left")
    ok_l = verified(hl, vl, ul)
    if same:
        return (src, ul, anti, ok_l), None
    ur = unitary(lead_map.u_right, hr.shape[1], "lead_map.u_right")
    ok_r = verified(hr, vr, ur)
    return (src, ul, anti, ok_l), (src, ur, anti, ok_r)


def transmission_batched(
    h_left: object,
    v_left: object,
    h_slab: Sequence[object],
    v_slab: Sequence[object],
    h_right: object,
    v_right: object,
    energy: float = 0.0,
    *,
    lead_map: LeadMap | None = None,
    decimation: int = 2,
    prop_tol: float = 1e-6,
    rank_tol: float = 1e-12,
    velocity_tol: float = 1e-9,
    basis_tol: float = 1e-8,
    residual_tol: float = 1e-10,
    unitarity_tol: float = 1e-9,
    fallback: bool = True,
) -> BatchedResult:
    r"""Landauer transmission and channel counts of B lead | slab | lead systems, K = E − H.

    Every argument is stacked over the batch (e.g. k∥ points): element b is the system
    ``smatrix(h_left[b], v_left[b], [x[b] for x in h_slab], [x[b] for x in v_slab],
    h_right[b], v_right[b], energy)``, whose ``transmission()``, ``n_left`` and ``n_right``
    are reproduced to round-off — by the Caroli formula with lead self-energies from a
    stacked eigen-decomposition (module docstring: method, checks, limits; **no ∂S/∂θ**).
    Elements that fail a check are recomputed with :func:`tbmto.wfm.smatrix`.

    Parameters
    ----------
    h_left, v_left : array_like
        (B, n_L, n_L) left-lead onsite blocks (Hermitian) and hoppings H_{j,j+1}.
    h_slab : sequence of M ≥ 1 array_like
        (B, n_i, n_i) Hermitian slab onsite blocks.
    v_slab : sequence of M+1 array_like
        v_slab[0] (B, n_L, n_0) = H_{last left-lead cell, slab 0}; v_slab[i] (B, n_{i−1}, n_i)
        = H_{slab i−1, slab i}; v_slab[M] (B, n_{M−1}, n_R) = H_{slab M−1, first right cell}.
    h_right, v_right : array_like
        (B, n_R, n_R) right-lead onsite blocks and hoppings. The same (or equal) arrays as
        the left lead's are solved once.
    energy : float
        Real energy E (model unit; the MTO caller uses E = 0 with H = S^α − P^α(E_F)).
    lead_map : LeadMap, optional
        Elements whose lead self-energies follow from another element's by a verified
        (anti)unitary symmetry, e.g. time reversal pairing k∥ with −k∥.
    decimation : int
        Cell-doubling steps applied to the leads before the eigen-decomposition (0 … 6;
        default 2: the decimated pencil of a screened MTO lead is 2–3× smaller). 0 is the
        plain compressed pencil of ``lead_modes``.
    prop_tol, rank_tol : float
        As in :func:`tbmto.wfm.lead_modes` (propagating threshold | |λ| − 1 |, rank of v).
    velocity_tol, basis_tol, residual_tol, unitarity_tol : float
        Acceptance thresholds of the batched result (module docstring).
    fallback : bool
        Recompute rejected elements with :func:`tbmto.wfm.smatrix` (default). With False a
        rejected element raises ``ValueError`` naming it and the failed check.

    Returns
    -------
    BatchedResult
        ``transmission``, ``n_left``, ``n_right``, ``unitarity_error``, the ``fallback``
        mask and ``reason`` per element, and the numbers of lead solves and mapped elements.

    Raises
    ------
    ValueError
        Naming the argument for shape, batch-size, finiteness or Hermiticity errors, a bad
        ``lead_map`` or tolerance, a complex energy, or (from the per-k fallback, with the
        batch element) an energy at a lead band edge.
    """
    e = check_energy(energy)
    hl, vl, hs, vs, hr, vr = _validate(h_left, v_left, h_slab, v_slab, h_right, v_right)
    decimation = _check_decimation(decimation)
    tol = _check_tols(prop_tol=prop_tol, rank_tol=rank_tol, velocity_tol=velocity_tol,
                      basis_tol=basis_tol, residual_tol=residual_tol)
    (unitarity_tol,) = _check_tols(unitarity_tol=unitarity_tol)
    if not isinstance(fallback, (bool, np.bool_)):
        raise ValueError(f"fallback must be True or False, got {fallback!r}")
    bsz = hl.shape[0]
    same = (hr is hl and vr is vl) or (hr.shape == hl.shape and np.array_equal(hr, hl) and np.array_equal(vr, vl))
    map_l = map_r = None
    if lead_map is not None:
        map_l, map_r = _check_map(lead_map, bsz, hl, vl, hr, vr, same)
    left = _leads(hl, vl, e, tol, decimation, map_l)
    right = left if same else _leads(hr, vr, e, tol, decimation, map_r)
    n_mapped = 0 if map_l is None else int(np.count_nonzero(map_l[3]) + (0 if same else np.count_nonzero(map_r[3])))
    reason = np.array([a or b for a, b in zip(left.reason, right.reason)], dtype=object)
    n_l, n_r = left.n_modes.copy(), right.n_modes.copy()

    # self-energies of the leads on the first and last slab layer and their broadenings
    m = len(hs)
    v0, vm = vs[0], vs[m]
    sig_l = _h(v0) @ left.surface_green_left @ v0
    sig_r = vm @ right.surface_green_right @ _h(vm)
    gam_l, gam_r = _broadening(sig_l), _broadening(sig_r)
    w_l, def_l = _coupling(gam_l, sig_l, n_l)
    w_r, def_r = _coupling(gam_r, sig_r, n_r)
    xw, gw, rc_slab = _sweep(e, hs, vs, sig_l, sig_r, w_l, w_r)
    # Caroli, T = Tr[Γ_R G_{M−1,0} Γ_L G_{M−1,0}†], with Γ_L = W_L W_L† (rank N_L, checked):
    # T = Tr[Γ_R X X†], X = G_{M−1,0} W_L
    trans = np.real(np.einsum("bij,bij->b", np.conj(xw), gam_r @ xw))
    # Mahaux–Weidenmüller S = −1 + i W†GW (Γ = W W† on the N largest eigenpairs): t and r′;
    # |N_R − T − Tr r′†r′| and |T − Tr t†t| test that Γ_R has rank N_R and is consistent with
    # the Caroli T (the left counterpart of the reflection sum is the rank defect of Γ_L)
    rp_mw = 1j * (_h(w_r) @ gw)
    k = w_r.shape[2]
    col = np.arange(k)
    rp_mw[:, col, col] -= col[None, :] >= (k - n_r[:, None])  # −1 on the N_R active columns
    t_mw = _h(w_r) @ xw
    t_w = np.sum(np.abs(t_mw) ** 2, axis=(1, 2))
    noise = t_w - np.sum(np.abs(_h(t_mw) @ t_mw) ** 2, axis=(1, 2))
    refl_r = np.sum(np.abs(rp_mw) ** 2, axis=(1, 2))
    uerr = np.maximum(np.abs(n_r - trans - refl_r), np.abs(trans - t_w))

    def fail(mask, why):
        reason[mask & (reason == "")] = why

    fail(~(rc_slab > 1e-14), "slab Green's function singular")
    fail(~(np.maximum(def_l, def_r) <= 100 * residual_tol),
         "broadening not positive semidefinite of rank N (inaccurate self-energy)")
    fail(~(uerr <= unitarity_tol * np.maximum(1.0, np.maximum(n_l, n_r))), "reflection sum check failed")
    fb = reason != ""
    trans = np.where(fb, np.nan, trans)
    noise = np.where(fb, np.nan, noise)
    uerr = np.where(fb, np.nan, uerr)
    if np.any(fb):
        if not fallback:
            b = int(np.flatnonzero(fb)[0])
            raise ValueError(f"batch element {b}: batched result rejected ({reason[b]}); "
                             "use fallback=True to recompute it with smatrix")
        from .solver import smatrix

        for b in np.flatnonzero(fb):
            try:
                res = smatrix(hl[b], vl[b], [y[b] for y in hs], [y[b] for y in vs], hr[b], vr[b], e)
            except ValueError as exc:  # a lead failure stays a LeadModeError (a physics error)
                kind = LeadModeError if isinstance(exc, LeadModeError) else ValueError
                raise kind(f"batch element {int(b)} ({reason[b]}): {exc}") from exc
            trans[b], n_l[b], n_r[b] = res.transmission(), res.n_left, res.n_right
            noise[b] = res.noise_trace()
            uerr[b] = res.unitarity_error()
    n_solves = left.n_solved + (0 if same else right.n_solved)
    return BatchedResult(transmission=trans, n_left=n_l.astype(int), n_right=n_r.astype(int), noise=noise,
                         unitarity_error=uerr, fallback=fb, reason=tuple(str(s) for s in reason), energy=e,
                         n_lead_solves=n_solves, n_mapped=n_mapped)


# ------------------------------------------------------------------------ slab part


def _broadening(sig: np.ndarray) -> np.ndarray:
    """Γ = i(Σ − Σ†), made exactly Hermitian."""
    gam = 1j * (sig - _h(sig))
    return 0.5 * (gam + _h(gam))


def _coupling(gam: np.ndarray, sig: np.ndarray, nch: np.ndarray):
    """W with Γ ≈ W W† from the N largest eigenpairs (N = ``nch`` per element, zero-padded
    to the largest N) and the rank defect: the largest |eigenvalue| outside the N largest,
    or negative one among them, relative to max|Σ|."""
    wv, vv = np.linalg.eigh(gam)  # ascending
    nn = wv.shape[1]
    k = int(min(nn, max(1, int(np.max(nch, initial=0)))))
    top = np.arange(nn)[None, :] >= (nn - nch[:, None])
    bad = np.where(top, np.maximum(-wv, 0.0), np.abs(wv))
    defect = np.max(bad, axis=1) / np.maximum(np.max(np.abs(sig), axis=(1, 2)), 1e-300)
    active = np.arange(k)[None, :] >= (k - nch[:, None])
    w = vv[:, :, nn - k:] * (np.sqrt(np.maximum(wv[:, nn - k:], 0.0)) * active)[:, None, :]
    return w, defect


def _sweep(e, hs, vs, sig_l, sig_r, w_l, w_r):
    """Left-connected RGF sweep over the slab layers (one stacked inverse per layer).

    A_i = E − h_i − [Σ_L (i = 0) | v_i† g_{i−1} v_i] [− Σ_R on layer M−1], g_i = A_i⁻¹;
    g_i v_{i+1} gives the next layer's self-energy, and X_i = G^{(i)}_{i,0} W_L =
    g_i v_i† X_{i−1} (X_0 = g_0 W_L) is carried with the N_L columns of W_L only.

    Returns
    -------
    tuple
        (G_{M−1,0} W_L, G_{M−1,M−1} W_R, smallest reciprocal condition of the A_i).
    """
    m = len(hs)
    gv = x = None
    rc_min = None
    for i in range(m):
        a = e * np.eye(hs[i].shape[1]) - hs[i]
        a -= sig_l if i == 0 else _h(vs[i]) @ gv
        last = i == m - 1
        if last:
            a -= sig_r
        g, rc = _inv_checked(a)
        rc_min = rc if rc_min is None else np.minimum(rc_min, rc)
        x = g @ (w_l if i == 0 else _h(vs[i]) @ x)
        gv = g @ (w_r if last else vs[i + 1])
    return x, gv, rc_min
