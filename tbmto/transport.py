"""Conductance and Gilbert-damping dissipation of a lead | slab | lead structure.

For every k∥ of a uniform mesh of the lateral supercell Brillouin zone the MTO secular matrix
K = P^α(E) − S^α(k∥) is assembled in principal-layer blocks (:mod:`tbmto.layers`) and the
scattering matrix is computed by wave-function matching (:func:`tbmto.wfm.smatrix`, K = E − H
with H = S^α − P^α at E = 0). Observables (Starikov et al., PRB 97, 214415 (2018);
Brataas, Tserkovnyak & Bauer, PRL 101, 037207 (2008)):

* G = (e²/h) ⟨Tr t t†⟩_k∥, spin summed, for the whole lateral supercell;
* Sharvin: ⟨N_left⟩_k∥, ⟨N_right⟩_k∥ propagating lead channels;
* damping: the tensor T_ab = ⟨Re Tr(∂S†/∂θ_a ∂S/∂θ_b)⟩_k∥ for rigid rotations θ_a of all slab
  moments about the two axes ⊥ their mean direction, from one solve (the derivatives share the
  scattering states); ∂H/∂θ = −∂P^α/∂θ is on-site for the parameter forms (S^α is spin
  independent). Then α = g T/(4π M) (:func:`tbmto.observables.gilbert_alpha`).

Nested lengths: with ``lengths`` the results for every L_i ≤ L come from one forward sweep of
the longest slab, closed at each L_i by its right buffer and lead
(:class:`tbmto.model.NestedMTOModel`, :func:`tbmto.wfm.smatrix_nested`), equal to independent
calculations on the truncated stacks (:func:`tbmto.structure.truncate`) to round-off.

The model (:class:`tbmto.model.MTOModel`: S^α pairs, k∥ and magnetisation independent, and the
on-site terms P^α(E)) is built once per structure and magnetisation; per k∥ only the Bloch sums
and the WFM solve run. The k loop
is distributed with :func:`tbmto.parallel.kmap`; results are reduced in k order on every rank,
so they are bitwise independent of the number of MPI ranks.

The on-site blocks come from :func:`tbmto.onsite.onsite_terms` in one of three spin–orbit forms
(``soc_form``: ``orthogonal``, ``screened``, ``exact``); the potential parameters are those of
the :class:`~tbmto.potentials.Potentials` passed in (linearised at E_F by default, see
:func:`tbmto.potentials.load`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from ase import Atoms

from tbmto.errors import PhysicsError
from tbmto.layers import KGRIDS, LayeredSystem, kmesh as make_kmesh
from tbmto.onsite import SOC_FORMS
from tbmto.observables import conductance_per_area, fano_factor, gilbert_alpha, sharvin_conductance_per_area
from tbmto.potentials import Potentials
from tbmto.materials import wigner_seitz_radius
from tbmto.structure import REGION_SLAB, positive_int_pair

__all__ = ["TransportResult", "KPointRecord", "compute", "DEFAULT_SOC_FORM", "BATCHED_MAX_N"]

DEFAULT_SOC_FORM = "exact"
"""Default spin–orbit form of :func:`compute` (``transport.soc_form``)."""

BATCHED_MAX_N = 36
"""Largest principal-layer size (spin-orbitals) for which :func:`compute` uses the batched
k∥ path by default: 1×1 fcc [001] (36) and [111] (18), measured 2.8–3.7× faster per k there
(benchmarks/bench_batched.py); larger blocks were not measured and take the per-k path."""


@dataclass
class TransportResult:
    """k∥-averaged transport quantities of one structure and magnetisation.

    Attributes
    ----------
    G_e2h : float
        ⟨Tr t t†⟩_k (spin summed, whole supercell): G in units of e²/h.
    area_nm2 : float
        Lateral supercell area (nm²).
    n_modes_left, n_modes_right : float
        ⟨N⟩_k propagating channels of the left/right lead (both spins).
    damping_T : float
        ⟨Re Tr(∂S†/∂θ₁ ∂S/∂θ₁)⟩_k for the first axis ê₁ of ``damping_axes`` (G̃_xx;
        dimensionless, per rad²); NaN when damping=False.
    damping_T_yy, damping_T_xy : float
        The other components of the damping tensor in the frame (ê₁, ê₂ = m̄ × ê₁):
        ⟨Re Tr ∂S†/∂θ₂ ∂S/∂θ₂⟩_k and the symmetrised ⟨Re Tr ∂S†/∂θ₁ ∂S/∂θ₂⟩_k (NaN without damping).
    moment_muB : float
        Σ over slab atoms of the species moments (μB).
    n_k : int
        Number of k∥ points.
    kmesh : list of int
        Mesh size (n₁, n₂) of the supercell Brillouin zone.
    seconds : float
        Wall time of :func:`compute` (s).
    soc, energy_Ry, damping_axis, damping_axes
        Settings used (energy relative to E_F; damping_axis = ê₁ and damping_axes = [ê₁, ê₂],
        None without damping).
    soc_form, linearisation, kgrid : str
        On-site SOC form, linearisation of the potential parameters and k∥ mesh used.
    n_atoms, n_slab_atoms, n_principal_layers, pl_layers
        Size of the problem: atoms in the structure, slab atoms, scattering PLs, PL thickness
        in atomic layers.
    slab_layers : int
        Slab length L of this result (atomic layers).
    nested_lengths : list of int or None
        All lengths of the nested sweep this result came from (None: a single length).
    batched : bool
        Computed by the batched k∥ path (:func:`tbmto.wfm.batched.transmission_batched`).
    transmission_k, damping_k : list of float
        Per-k∥ Tr t t† and Re Tr ∂S†∂S (k order of :func:`tbmto.layers.kmesh`).
    noise_k : list of float
        Per-k∥ shot-noise trace Tr t†t(1 − t†t) (:meth:`tbmto.wfm.SMatrixResult.noise_trace`);
        :attr:`fano` is their ratio to the transmission.
    timings : dict
        Seconds: ``salpha_pairs_s`` (padded scattering regions of the trunk and the branch windows), ``salpha_lead_pairs_s``,
        ``model_s`` (on-site terms and every S^α table of :class:`tbmto.model.NestedMTOModel`),
        ``assembly_s_per_k`` (Bloch sums + blocks, mean),
        ``wfm_s_per_k`` (mean), ``k_loop_s``.
    wigner_seitz_radius_angstrom : float
        Average Wigner–Seitz radius of the stack's lattice used for S^α (Å; fcc a (3/16π)^{1/3}, bcc a (3/8π)^{1/3}).
    lead_cache : dict or None
        With a lead-mode cache (:class:`tbmto.wfm.LeadModeCache`): ``directory`` (str or
        None), ``lookups`` (one per distinct lead per k∥, summed over k and ranks), ``hits``
        (= ``memory_hits`` + ``disk_hits``), ``misses`` (lead modes computed), and
        ``leads_s_per_k`` (mean seconds per k∥ to obtain both leads' modes). None without.
    """

    G_e2h: float
    area_nm2: float
    n_modes_left: float
    n_modes_right: float
    damping_T: float
    moment_muB: float
    n_k: int
    kmesh: list[int]
    seconds: float
    soc: bool
    energy_Ry: float
    damping_axis: list[float] | None
    n_atoms: int
    n_slab_atoms: int
    n_principal_layers: int
    pl_layers: int
    transmission_k: list[float] = field(default_factory=list)
    damping_k: list[float] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    wigner_seitz_radius_angstrom: float = float("nan")
    lead_cache: dict | None = None
    soc_form: str = DEFAULT_SOC_FORM
    linearisation: str = "fermi"
    kgrid: str = "shifted"
    damping_T_yy: float = float("nan")
    damping_T_xy: float = float("nan")
    damping_axes: list[list[float]] | None = None
    slab_layers: int = 0
    nested_lengths: list[int] | None = None
    batched: bool = False
    noise_k: list[float] = field(default_factory=list)

    @property
    def fano(self) -> float:
        """Fano factor Σ_k noise_k / Σ_k transmission_k (:func:`tbmto.observables.fano_factor`;
        ≈ 1/3 once the slab is diffusive, NaN without per-k data)."""
        return fano_factor(self.noise_k, self.transmission_k) if self.noise_k else math.nan

    @property
    def conductance_per_area(self) -> float:
        """G/A in 10¹⁵ Ω⁻¹ m⁻² (spin summed)."""
        return float(conductance_per_area(self.G_e2h, self.area_nm2))

    @property
    def sharvin_per_area_per_spin(self) -> float:
        """Left-lead Sharvin conductance per area and spin, (e²/h) N/(2A), in 10¹⁵ Ω⁻¹ m⁻²."""
        return float(sharvin_conductance_per_area(self.n_modes_left, self.area_nm2, per_spin=True))

    @property
    def alpha(self) -> float:
        """Gilbert damping g T/(4π M) with g = 2 (NaN without damping or moment)."""
        if not np.isfinite(self.damping_T) or self.moment_muB <= 0:
            return float("nan")
        return float(gilbert_alpha(self.damping_T, self.moment_muB))

    def to_dict(self) -> dict:
        """JSON-serialisable dict (NaN → None)."""
        out = asdict(self)

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, (np.floating, np.integer)):
                return clean(v.item())
            if isinstance(v, list):
                return [clean(x) for x in v]
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        return clean(out)


def _validated_lengths(lengths, slab_layers: int) -> tuple[int, ...]:
    """Strictly increasing slab lengths in [1, slab_layers] (atomic layers)."""
    if lengths is None:
        return (slab_layers,)
    try:
        ls = [int(x) for x in lengths]
    except (TypeError, ValueError):
        raise ValueError(f"lengths must be a sequence of positive integers, got {lengths!r}") from None
    if (not ls or any(isinstance(x, bool) for x in lengths) or list(lengths) != ls
            or any(b <= a for a, b in zip(ls, ls[1:])) or ls[0] < 1 or ls[-1] > slab_layers):
        raise ValueError(f"lengths must be strictly increasing integers in [1, {slab_layers}] "
                         f"(the slab of atoms), got {lengths!r}")
    return tuple(ls)


@dataclass(frozen=True)
class KPointRecord:
    """Results of one k∥ point for every length (the unit :func:`compute` reduces over k).

    Attributes
    ----------
    transmission : ndarray (n_L,)
        Tr t t† per length.
    noise : ndarray (n_L,)
        Tr t†t(1 − t†t) per length (:meth:`tbmto.wfm.SMatrixResult.noise_trace`).
    n_left : int
        Propagating channels of the left lead.
    n_right : ndarray (n_L,)
        Propagating channels of each length's right lead.
    damping : ndarray (n_L, n_d, n_d)
        Re Tr(∂S†/∂θ_a ∂S/∂θ_b) per length (n_d = 0 without damping).
    assembly_s, wfm_s : float
        Seconds for the blocks and for the lead modes + solve.
    leads : LeadStats
        Where the lead modes came from.
    """

    transmission: np.ndarray
    noise: np.ndarray
    n_left: int
    n_right: np.ndarray
    damping: np.ndarray
    assembly_s: float
    wfm_s: float
    leads: object


def _kpoint_error(exc: Exception, atoms: Atoms, soc: bool, energy_Ry: float, kgrid: str,
                  kmesh: tuple[int, int], indices, ks: np.ndarray) -> PhysicsError:
    """A :class:`~tbmto.errors.PhysicsError` for a failure at k∥ points ``indices`` of ``ks``.

    The message names the structure (system, configuration, slab layers, lattice and direction,
    lead, mean slab magnetisation, SOC), the k∥ point(s) (index in the mesh, Cartesian in 1/Å),
    the energy, the original message and what to change in the study.
    """
    info = atoms.info
    region = np.asarray(atoms.arrays["region"])
    m = np.asarray(atoms.arrays["magmom_dir"], dtype=float)[region == REGION_SLAB].mean(axis=0)
    idx = list(indices)
    pts = ", ".join(f"#{i} of {len(ks)} k = ({ks[i][0]:.6f}, {ks[i][1]:.6f}) 1/Å" for i in idx[:4])
    if len(idx) > 4:
        pts += f", ... ({len(idx)} points)"
    where = (f"structure {info.get('system', '?')} configuration {info.get('config', '?')} "
             f"({info.get('slab_layers', '?')} slab layers, {info.get('lattice', 'fcc')} "
             f"[{info.get('direction', '?')}], lead {info.get('lead', '?')}, "
             f"m = ({m[0]:.3g}, {m[1]:.3g}, {m[2]:.3g}), {'SOC' if soc else 'no SOC'})")
    return PhysicsError(
        f"{where}, k-point {pts}, E - E_F = {energy_Ry:g} Ry: {exc}. What to change: the energy "
        f"lies on a lead band edge (or the lead is singular) at this k∥; move the mesh off it "
        f"(transport.kmesh / --kmesh, now {kmesh[0]}x{kmesh[1]}, e.g. to an even or a different "
        f"size, or transport.kgrid / --kgrid, now {kgrid!r}) or change the lead "
        f"(geometry.lead / --lead)")


def compute(
    atoms: Atoms,
    potentials: Potentials,
    kmesh: Sequence[int] = (8, 8),
    soc: bool = True,
    damping: bool = False,
    energy_Ry: float = 0.0,
    comm=None,
    progress: bool = True,
    cutoff: float | None = None,
    cluster_radius: float | None = None,
    damping_axis: Sequence[float] | None = None,
    layered: LayeredSystem | None = None,
    lead_cache=None,
    soc_form: str = DEFAULT_SOC_FORM,
    kgrid: str = "shifted",
    lengths: Sequence[int] | None = None,
    memory_limit_gb: float | None = None,
    batched: bool | None = None,
) -> TransportResult | list[TransportResult]:
    """Landauer conductance (and the damping tensor) of a lead | slab | lead structure.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure from :func:`tbmto.structure.build_stack` (possibly with a texture from
        :func:`~tbmto.structure.set_magnetization` / :func:`~tbmto.structure.domain_wall`).
    potentials : Potentials
        Parameters for every species of ``atoms`` (E_F = 0), at the same lattice constant
        (to 1e−4 Å).
    kmesh : (int, int)
        n₁ × n₂ uniform mesh of the supercell 2D Brillouin zone (folding consistent: 1×1 with
        (m n)² points ≡ m×m with n² points).
    soc : bool
        Include spin–orbit coupling.
    damping : bool
        Also compute the damping tensor T_ab = ⟨Re Tr ∂S†/∂θ_a ∂S/∂θ_b⟩ for rigid rotations
        of all slab moments about the two axes ⊥ their mean direction
        (:func:`tbmto.model.transverse_axes`).
    energy_Ry : float
        Energy relative to E_F (Ry).
    comm : mpi4py communicator, optional
        Passed to :func:`tbmto.parallel.kmap`.
    progress : bool
        Progress bar on rank 0.
    cutoff, cluster_radius : float, optional
        S^α pair range and screening-cluster radius (Å); defaults of
        :func:`tbmto.layers.build_layered_system`.
    damping_axis : 3-vector, optional
        First rotation axis (unit, ⊥ the mean slab magnetisation); the second is m̄ × axis.
    layered : LayeredSystem, optional
        Re-use S^α pairs of an earlier call on the same geometry (e.g. another magnetisation).
    lead_cache : tbmto.wfm.LeadModeCache or path-like, optional
        Obtain the lead modes through this content-addressed cache (a path: a
        ``LeadModeCache(directory=path, max_memory_items=0)``, disk only); results are bitwise
        those without a cache. Hit/miss counts go to ``TransportResult.lead_cache``.
    soc_form : {"orthogonal", "screened", "exact"}
        Form of the on-site spin–orbit term (:mod:`tbmto.onsite`); irrelevant without SOC.
    kgrid : {"shifted", "gamma"}
        k∥ mesh: shifted by half a step (default) or Γ-centred (:func:`tbmto.layers.kmesh`;
        n = 2N − 1 gives the (2N − 1)² symmetric mesh of the published TB-MTO code).
    lengths : sequence of int, optional
        Nested slab lengths L₁ < … < Lₙ (atomic layers, Lₙ ≤ the slab of ``atoms``): the
        result for L_i is that of :func:`tbmto.structure.truncate` (atoms, L_i) — its first L_i
        slab layers, the same right buffer and lead — from **one** sweep of the longest slab
        (:class:`tbmto.model.NestedMTOModel`, :func:`tbmto.wfm.smatrix_nested`). None: the
        whole slab, one result.
    memory_limit_gb : float, optional
        With damping, keep at most this much of per-layer factors (1.5 n² + 2 n N_L complex per
        principal layer) and recompute the rest in the backward sweep (GiB; None: keep all).
    batched : bool, optional
        Solve chunks of k∥ at once with :func:`tbmto.wfm.batched.transmission_batched`
        (Caroli formula, stacked numpy; G and channel counts only, equal to the per-k path to
        ~1e−13 but not bitwise; the lead cache is not used). None (default): when there is no
        damping, no ``lengths`` and the principal layers have ≤ ``BATCHED_MAX_N`` spin-orbitals
        (1×1 cells, where the per-k path is dominated by fixed costs).

    Returns
    -------
    TransportResult, or list of TransportResult (one per length) when ``lengths`` is given

    Raises
    ------
    ValueError
        On bad arguments (types, shapes, a lattice constant that differs from the potentials').
    tbmto.errors.PhysicsError
        When the scattering problem has no well-defined answer at some k∥ (an energy at a lead
        band edge, a lost channel, a singular lead self-energy): the message names the
        structure, the k-point and what to change.
    """
    from tbmto.model import NestedMTOModel, transverse_axes
    from tbmto.parallel import kmap
    from tbmto.wfm import LeadModeCache, LeadSolver, LeadStats, smatrix_nested
    from tbmto.wfm.batched import batch_size_for, stack_blocks, transmission_batched

    t_start = time.perf_counter()
    if not isinstance(atoms, Atoms):
        raise ValueError(f"atoms must be an ase.Atoms, got {type(atoms).__name__}")
    if not isinstance(potentials, Potentials):
        raise ValueError(f"potentials must be a tbmto.potentials.Potentials, got {type(potentials).__name__}")
    n1, n2 = positive_int_pair(kmesh, "kmesh")
    cache = lead_cache
    if cache is not None and not isinstance(cache, LeadModeCache):
        if not isinstance(cache, (str, os.PathLike)):
            raise ValueError(f"lead_cache must be a LeadModeCache, a directory path or None, got {type(cache).__name__}")
        # disk only: within one call every k∥ has its own leads, memory entries would never hit
        cache = LeadModeCache(directory=cache, max_memory_items=0)
    if not np.isfinite(energy_Ry):
        raise ValueError(f"energy_Ry must be finite, got {energy_Ry!r}")
    if memory_limit_gb is not None and not (isinstance(memory_limit_gb, (int, float)) and memory_limit_gb > 0):
        raise ValueError(f"memory_limit_gb must be a positive number of GiB or None, got {memory_limit_gb!r}")
    for key in ("magmom_dir", "region", "layer"):
        if key not in atoms.arrays:
            raise ValueError(f"atoms lacks the per-atom array {key!r}; use tbmto.structure.build_stack")
    a_struct = float(atoms.info.get("lattice_constant_angstrom", float("nan")))
    if not abs(a_struct - potentials.lattice_constant_angstrom) <= 1e-4:
        raise ValueError(
            f"atoms lattice constant {a_struct} Å differs from the potentials' "
            f"{potentials.lattice_constant_angstrom} Å ({', '.join(potentials.sources)})"
        )
    if soc_form not in SOC_FORMS:
        raise ValueError(f"soc_form must be one of {list(SOC_FORMS)}, got {soc_form!r}")
    if kgrid not in KGRIDS:
        raise ValueError(f"kgrid must be one of {list(KGRIDS)}, got {kgrid!r}")
    region = np.asarray(atoms.arrays["region"])
    slab_layers = int(np.unique(np.asarray(atoms.arrays["layer"])[region == REGION_SLAB]).size)
    lens = _validated_lengths(lengths, slab_layers)
    m = np.asarray(atoms.arrays["magmom_dir"], dtype=float)
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    slab = region == REGION_SLAB

    w = wigner_seitz_radius(a_struct, atoms.info.get("lattice", "fcc"))
    if layered is not None:
        if not isinstance(layered, LayeredSystem):
            raise ValueError(f"layered must be a LayeredSystem, got {type(layered).__name__}")
        if sum(len(p) for p in layered.pl_atoms) != len(atoms):
            raise ValueError("layered was built for a structure with a different number of atoms")
    axes = transverse_axes(m[slab], damping_axis) if damping else None
    t0 = time.perf_counter()
    model = NestedMTOModel.build(atoms, lens, potentials, float(energy_Ry), bool(soc), soc_form, axes=axes,
                                 trunk_layered=layered, w=w, cutoff=cutoff, cluster_radius=cluster_radius)
    t_model = time.perf_counter() - t0
    limit = None if memory_limit_gb is None else float(memory_limit_gb) * 2**30
    n_len = len(lens)

    ks = make_kmesh(model.trunk.layered.cell2d, (n1, n2), grid=kgrid)

    def one_k(item) -> KPointRecord:
        i, k = item
        ta = time.perf_counter()
        leads = LeadSolver(cache)
        try:
            sysk = model.systems(k, leads)
            tb = time.perf_counter()
            res = smatrix_nested(sysk["left"], sysk["trunk_h"], sysk["trunk_v"], sysk["branches"],
                                 trunk_dh=sysk["trunk_dh"], trunk_dv=sysk["trunk_dv"],
                                 derivatives=sysk["derivatives"], memory_limit_bytes=limit)
        except PhysicsError as exc:
            raise _kpoint_error(exc, atoms, soc, energy_Ry, kgrid, (n1, n2), [i], ks) from exc
        tc = time.perf_counter()
        n_d = sysk["derivatives"]
        dmp = (np.stack([r.damping_tensor() for r in res]) if n_d else np.zeros((n_len, 0, 0)))
        # lead modes are obtained inside systems(): count their time as WFM, not assembly
        return KPointRecord(
            transmission=np.array([r.transmission() for r in res]),
            noise=np.array([r.noise_trace() for r in res]), n_left=int(res[0].n_left),
            n_right=np.array([r.n_right for r in res]), damping=dmp,
            assembly_s=tb - ta - leads.stats.seconds, wfm_s=tc - tb + leads.stats.seconds, leads=leads.stats)

    n_max = 18 * max(len(a) for a in model.trunk.layered.pl_atoms)
    if batched is None:
        batched = not damping and lengths is None and n_max <= BATCHED_MAX_N
    if batched and (damping or n_len > 1):
        raise ValueError("batched=True computes G only for one length (no damping, no lengths)")

    def one_chunk(item) -> list[KPointRecord]:
        """Batched G of a chunk of k∥ (tbmto.wfm.batched; no ∂S, no lead modes objects)."""
        start, chunk = item
        ta = time.perf_counter()
        blocks = [model.trunk.blocks(k) for k in chunk]
        tb = time.perf_counter()
        try:
            res = transmission_batched(*stack_blocks(blocks), 0.0)
        except PhysicsError as exc:
            raise _kpoint_error(exc, atoms, soc, energy_Ry, kgrid, (n1, n2),
                                range(start, start + len(chunk)), ks) from exc
        tc = time.perf_counter()
        return [KPointRecord(transmission=np.array([res.transmission[i]]), noise=np.array([res.noise[i]]),
                             n_left=int(res.n_left[i]),
                             n_right=np.array([res.n_right[i]]), damping=np.zeros((1, 0, 0)),
                             assembly_s=(tb - ta) / len(chunk), wfm_s=(tc - tb) / len(chunk), leads=LeadStats())
                for i in range(len(chunk))]

    t0 = time.perf_counter()
    if batched:
        # chunks fixed by the block size, not by the rank count: rank-independent results
        bsz = batch_size_for(n_max)
        chunks = [(i, ks[i:i + bsz]) for i in range(0, len(ks), bsz)]
        recs = [r for part in kmap(one_chunk, chunks, comm=comm, progress=progress, desc="k-point batches")
                for r in part]
    else:
        recs = kmap(one_k, list(enumerate(ks)), comm=comm, progress=progress, desc="k-points")
    t_loop = time.perf_counter() - t0
    nk = len(ks)
    trans = np.stack([r.transmission for r in recs])  # (nk, n_L)
    noise = np.stack([r.noise for r in recs])
    n_right = np.stack([r.n_right for r in recs]).astype(float)
    n_left = np.array([r.n_left for r in recs], dtype=float)
    dmp = np.stack([r.damping for r in recs])  # (nk, n_L, n_d, n_d)
    area_nm2 = model.trunk.layered.area_nm2
    lead_stats = None
    if cache is not None:
        st = [r.leads for r in recs]
        lead_stats = {
            "directory": None if cache.directory is None else os.fspath(cache.directory),
            "lookups": int(sum(s.lookups for s in st)),
            "hits": int(sum(s.memory_hits + s.disk_hits for s in st)),
            "memory_hits": int(sum(s.memory_hits for s in st)),
            "disk_hits": int(sum(s.disk_hits for s in st)),
            "misses": int(sum(s.computed for s in st)),
            "leads_s_per_k": float(np.mean([s.seconds for s in st])),
        }
    moments = potentials.for_atoms(atoms.get_chemical_symbols())["moment_muB"]
    layer = np.asarray(atoms.arrays["layer"])
    pairs_s = float(model.trunk.layered.timings.get("salpha_pairs_s", 0.0)) + sum(
        float(t.model.layered.timings.get("salpha_pairs_s", 0.0)) for t in model.tails if t.model is not model.trunk)
    seconds = time.perf_counter() - t_start
    out = []
    for c, t in enumerate(model.tails):
        tr_atoms = t.atoms
        tr_slab = np.asarray(tr_atoms.arrays["region"]) == REGION_SLAB
        tens = dmp[:, c].sum(axis=0) / nk if damping else None
        nan = float("nan")
        out.append(TransportResult(
            G_e2h=float(np.sum(trans[:, c]) / nk),
            area_nm2=area_nm2,
            n_modes_left=float(np.sum(n_left) / nk),
            n_modes_right=float(np.sum(n_right[:, c]) / nk),
            damping_T=float(tens[0, 0]) if damping else nan,
            damping_T_yy=float(tens[1, 1]) if damping else nan,
            damping_T_xy=float(0.5 * (tens[0, 1] + tens[1, 0])) if damping else nan,
            moment_muB=float(np.sum(moments[slab & (layer < t.length)])),
            n_k=nk,
            kmesh=[n1, n2],
            seconds=seconds,
            soc=bool(soc),
            energy_Ry=float(energy_Ry),
            damping_axis=None if axes is None else [float(x) for x in axes[0]],
            damping_axes=None if axes is None else [[float(x) for x in ax] for ax in axes],
            n_atoms=len(tr_atoms),
            n_slab_atoms=int(tr_slab.sum()),
            n_principal_layers=t.at + t.model.layered.n_pl - t.first,
            pl_layers=model.trunk.layered.n_pl_layers,
            slab_layers=t.length,
            nested_lengths=list(lens) if lengths is not None else None,
            batched=bool(batched),
            transmission_k=[float(x) for x in trans[:, c]],
            noise_k=[float(x) for x in noise[:, c]],
            damping_k=[float(x) for x in dmp[:, c, 0, 0]] if damping else [],
            timings={
                "salpha_pairs_s": pairs_s,
                "salpha_lead_pairs_s": float(model.trunk.layered.timings.get("salpha_lead_pairs_s", 0.0)),
                "model_s": t_model,
                "assembly_s_per_k": float(np.mean([r.assembly_s for r in recs])),
                "wfm_s_per_k": float(np.mean([r.wfm_s for r in recs])),
                "k_loop_s": t_loop,
            },
            wigner_seitz_radius_angstrom=w,
            lead_cache=lead_stats,
            soc_form=soc_form,
            linearisation=potentials.linearisation,
            kgrid=kgrid,
        ))
    return out if lengths is not None else out[0]
