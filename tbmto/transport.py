"""Conductance and Gilbert-damping dissipation of a lead | slab | lead structure.

For every k∥ of a uniform mesh of the lateral supercell Brillouin zone the MTO secular matrix
K = P^α(E) − S^α(k∥) is assembled in principal-layer blocks (:mod:`tbmto.layers`) and the
scattering matrix is computed by wave-function matching (:func:`tbmto.wfm.smatrix`, K = E − H
with H = S^α − P^α at E = 0). Observables (Starikov et al., PRB 97, 214415 (2018);
Brataas, Tserkovnyak & Bauer, PRL 101, 037207 (2008)):

* G = (e²/h) ⟨Tr t t†⟩_k∥, spin summed, for the whole lateral supercell;
* Sharvin: ⟨N_left⟩_k∥, ⟨N_right⟩_k∥ propagating lead channels;
* damping: T = ⟨Re Tr(∂S†/∂θ ∂S/∂θ)⟩_k∥ for a rigid rotation by θ of all slab moments about
  an axis ⊥ their mean direction; ∂H/∂θ = −∂P^α/∂θ is on-site (S^α is spin independent).
  Then α = g T/(4π M) (:func:`tbmto.observables.gilbert_alpha`).

S^α pairs (k∥ and magnetisation independent) are computed once per structure and P^α(E) once
per structure and magnetisation; per k∥ only the Bloch sums and the WFM solve run. The k loop
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

from tbmto.layers import KGRIDS, LayeredSystem, build_layered_system, kmesh as make_kmesh
from tbmto.lmto.structure_constants import SCREENING_ALPHA
from tbmto.onsite import SOC_FORMS, onsite_terms
from tbmto.observables import conductance_per_area, gilbert_alpha, sharvin_conductance_per_area
from tbmto.potentials import Potentials, fcc_wigner_seitz_radius
from tbmto.structure import REGION_SLAB, positive_int_pair

__all__ = ["TransportResult", "compute", "damping_axis_for", "onsite_parameters", "scattering_blocks",
           "DEFAULT_SOC_FORM"]

DEFAULT_SOC_FORM = "exact"
"""Default spin–orbit form of :func:`compute` (``transport.soc_form``)."""


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
        ⟨Re Tr(∂S†/∂θ ∂S/∂θ)⟩_k (dimensionless, per rad²); NaN when damping=False.
    moment_muB : float
        Σ over slab atoms of the species moments (μB).
    n_k : int
        Number of k∥ points.
    kmesh : list of int
        Mesh size (n₁, n₂) of the supercell Brillouin zone.
    seconds : float
        Wall time of :func:`compute` (s).
    soc, energy_Ry, damping_axis
        Settings used (energy relative to E_F; damping_axis None without damping).
    soc_form, linearisation, kgrid : str
        On-site SOC form, linearisation of the potential parameters and k∥ mesh used.
    n_atoms, n_slab_atoms, n_principal_layers, pl_layers
        Size of the problem: atoms in the structure, slab atoms, scattering PLs, PL thickness
        in atomic layers.
    transmission_k, damping_k : list of float
        Per-k∥ Tr t t† and Re Tr ∂S†∂S (k order of :func:`tbmto.layers.kmesh`).
    timings : dict
        Seconds: ``salpha_pairs_s`` (padded scattering region), ``salpha_lead_pairs_s``,
        ``potential_functions_s``, ``assembly_s_per_k`` (Bloch sums + blocks, mean),
        ``wfm_s_per_k`` (mean), ``k_loop_s``.
    wigner_seitz_radius_angstrom : float
        Average WS radius w = a (3/16π)^{1/3} used for S^α (Å).
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


def onsite_parameters(atoms: Atoms, potentials: Potentials) -> dict[str, np.ndarray]:
    """Per-atom potential parameters of ``atoms`` (see :meth:`Potentials.for_atoms`)."""
    return potentials.for_atoms(atoms.get_chemical_symbols())


def scattering_blocks(layered: LayeredSystem, terms, k, dh: list | None = None):
    """Blocks of H = −K at one k∥ for :func:`tbmto.wfm.smatrix`, and their θ derivatives.

    Parameters
    ----------
    layered : LayeredSystem
        S^α pairs and PL partition of the structure.
    terms : tbmto.onsite.OnsiteTerms
        On-site blocks of every atom (any SOC form).
    k : array (3,)
        k∥ (1/Å).
    dh : list of ndarray, optional
        ∂H/∂θ = −∂P^α/∂θ per scattering PL (on-site).

    Returns
    -------
    blocks : tbmto.layers.HamiltonianBlocks
    dh_slab : list or None
        On-site derivative blocks (k dependent for the screened form).
    dv_slab : list or None
        Coupling derivative blocks (screened form only), else None.
    """
    p = terms.p
    b = layered.hamiltonian_blocks(k, p, p[layered.left_lead_atoms], p[layered.right_lead_atoms])
    if terms.x is None:
        return b, dh, None
    return layered.screened_soc_blocks(b, terms.x, terms.a, dh, terms.dx, terms.da)


def damping_axis_for(m: np.ndarray) -> np.ndarray:
    """Default rotation axis ⊥ the mean magnetisation m̄ of the rotated atoms.

    axis = ẑ × m̄ / |ẑ × m̄|, or x̂ when m̄ ∥ ẑ.

    Raises
    ------
    ValueError
        If the mean magnetisation vanishes (then pass ``damping_axis`` explicitly).
    """
    mbar = np.mean(np.asarray(m, dtype=float), axis=0)
    nrm = float(np.linalg.norm(mbar))
    if nrm < 1e-8:
        raise ValueError("the mean slab magnetisation vanishes; pass damping_axis explicitly")
    mbar /= nrm
    ax = np.cross([0.0, 0.0, 1.0], mbar)
    if np.linalg.norm(ax) < 1e-8:
        return np.array([1.0, 0.0, 0.0])
    return ax / np.linalg.norm(ax)


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
) -> TransportResult:
    """Landauer conductance (and damping dissipation) of a lead | slab | lead structure.

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
        Also compute T = ⟨Re Tr ∂S†/∂θ ∂S/∂θ⟩ for a rigid rotation of all slab moments.
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
        Rotation axis (unit, ⊥ the mean slab magnetisation); default
        :func:`damping_axis_for`.
    layered : LayeredSystem, optional
        Re-use S^α pairs of an earlier call on the same geometry (e.g. another magnetisation).
    lead_cache : tbmto.wfm.LeadModeCache or path-like, optional
        Obtain the lead modes through this content-addressed cache (a path: a
        ``LeadModeCache(directory=path, max_memory_items=0)``, disk only) and solve with
        :func:`tbmto.wfm.smatrix_from_modes`; results are bitwise those without a cache.
        Hit/miss counts go to ``TransportResult.lead_cache``.
    soc_form : {"orthogonal", "screened", "exact"}
        Form of the on-site spin–orbit term (:mod:`tbmto.onsite`); irrelevant without SOC.
    kgrid : {"shifted", "gamma"}
        k∥ mesh: shifted by half a step (default) or Γ-centred (:func:`tbmto.layers.kmesh`;
        n = 2N − 1 gives the (2N − 1)² symmetric mesh of the published TB-MTO code).

    Returns
    -------
    TransportResult
    """
    from tbmto.parallel import kmap
    from tbmto.wfm import LeadModeCache, smatrix, smatrix_from_modes

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
    for key in ("magmom_dir", "region", "layer"):
        if key not in atoms.arrays:
            raise ValueError(f"atoms lacks the per-atom array {key!r}; use tbmto.structure.build_stack")
    a_struct = float(atoms.info.get("lattice_constant_angstrom", float("nan")))
    if not abs(a_struct - potentials.lattice_constant_angstrom) <= 1e-4:
        raise ValueError(
            f"atoms lattice constant {a_struct} Å differs from the potentials' "
            f"{potentials.lattice_constant_angstrom} Å ({', '.join(potentials.sources)})"
        )
    par = onsite_parameters(atoms, potentials)
    m = np.asarray(atoms.arrays["magmom_dir"], dtype=float)
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    region = np.asarray(atoms.arrays["region"])
    slab = region == REGION_SLAB

    w = fcc_wigner_seitz_radius(a_struct)
    if layered is None:
        layered = build_layered_system(atoms, w=w, cutoff=cutoff, cluster_radius=cluster_radius)
    elif not isinstance(layered, LayeredSystem):
        raise ValueError(f"layered must be a LayeredSystem, got {type(layered).__name__}")
    elif sum(len(p) for p in layered.pl_atoms) != len(atoms):
        raise ValueError("layered was built for a structure with a different number of atoms")

    if soc_form not in SOC_FORMS:
        raise ValueError(f"soc_form must be one of {list(SOC_FORMS)}, got {soc_form!r}")
    if kgrid not in KGRIDS:
        raise ValueError(f"kgrid must be one of {list(KGRIDS)}, got {kgrid!r}")
    t0 = time.perf_counter()
    axis = None
    if damping:
        axis = damping_axis_for(m[slab]) if damping_axis is None else np.asarray(damping_axis, dtype=float)
        if axis.shape != (3,) or abs(np.linalg.norm(axis) - 1) > 1e-6:
            raise ValueError(f"damping_axis must be a unit 3-vector, got {damping_axis!r}")
        mbar = m[slab].mean(axis=0)
        if abs(axis @ mbar) > 1e-6 * max(1.0, np.linalg.norm(mbar)):
            raise ValueError(f"damping_axis must be perpendicular to the mean slab magnetisation {mbar}")
    terms = onsite_terms(potentials, atoms.get_chemical_symbols(), m, float(energy_Ry), soc=bool(soc),
                         soc_form=soc_form, rotated=slab if damping else None, axis=axis,
                         alpha=SCREENING_ALPHA)
    dh = layered.onsite_blocks(-terms.dp) if damping else None  # ∂H/∂θ = −∂P^α/∂θ
    t_pot = time.perf_counter() - t0

    cell2d = layered.cell2d
    ks = make_kmesh(cell2d, (n1, n2), grid=kgrid)

    def cached_leads(b):
        """Both leads through the cache: (left, right, lookups, memory hits, disk hits, misses)."""
        sources = []
        left, src = cache.lookup(b.h_left, b.v_left, 0.0, name="left lead")
        sources.append(src)
        if (b.h_left.shape == b.h_right.shape and np.array_equal(b.h_left, b.h_right)
                and np.array_equal(b.v_left, b.v_right)):
            right = left  # identical leads: one lookup (as smatrix solves them once)
        else:
            right, src = cache.lookup(b.h_right, b.v_right, 0.0, name="right lead")
            sources.append(src)
        counts = [sources.count(s) for s in ("memory", "disk", "computed")]
        return left, right, len(sources), *counts

    def one_k(k):
        ta = time.perf_counter()
        b, dh_k, dv_k = scattering_blocks(layered, terms, k, dh)
        tb = time.perf_counter()
        if cache is None:
            res = smatrix(b.h_left, b.v_left, b.h_slab, b.v_slab, b.h_right, b.v_right,
                          energy=0.0, dh_slab=dh_k, dv_slab=dv_k)
            stats, t_leads = (0, 0, 0, 0), 0.0
        else:
            left, right, *stats = cached_leads(b)
            t_leads = time.perf_counter() - tb
            res = smatrix_from_modes(left, right, b.h_slab, b.v_slab, dh_slab=dh_k, dv_slab=dv_k)
        tc = time.perf_counter()
        d = res.damping_trace() if damping else float("nan")
        return (res.transmission(), res.n_left, res.n_right, d, tb - ta, tc - tb, *stats, t_leads)

    t0 = time.perf_counter()
    out = kmap(one_k, list(ks), comm=comm, progress=progress, desc="k-points")
    t_loop = time.perf_counter() - t0
    arr = np.array(out, dtype=float).reshape(len(ks), 11)
    nk = len(ks)
    area_nm2 = abs(float(np.cross(cell2d[0], cell2d[1])[2])) / 100.0
    return TransportResult(
        G_e2h=float(np.sum(arr[:, 0]) / nk),
        area_nm2=area_nm2,
        n_modes_left=float(np.sum(arr[:, 1]) / nk),
        n_modes_right=float(np.sum(arr[:, 2]) / nk),
        damping_T=float(np.sum(arr[:, 3]) / nk) if damping else float("nan"),
        moment_muB=float(np.sum(par["moment_muB"][slab])),
        n_k=nk,
        kmesh=[n1, n2],
        seconds=time.perf_counter() - t_start,
        soc=bool(soc),
        energy_Ry=float(energy_Ry),
        damping_axis=None if axis is None else [float(x) for x in axis],
        n_atoms=len(atoms),
        n_slab_atoms=int(slab.sum()),
        n_principal_layers=layered.n_pl,
        pl_layers=layered.n_pl_layers,
        transmission_k=[float(x) for x in arr[:, 0]],
        damping_k=[float(x) for x in arr[:, 3]] if damping else [],
        timings={
            "salpha_pairs_s": float(layered.timings.get("salpha_pairs_s", 0.0)),
            "salpha_lead_pairs_s": float(layered.timings.get("salpha_lead_pairs_s", 0.0)),
            "potential_functions_s": t_pot,
            "assembly_s_per_k": float(np.mean(arr[:, 4])),
            "wfm_s_per_k": float(np.mean(arr[:, 5])),
            "k_loop_s": t_loop,
        },
        wigner_seitz_radius_angstrom=w,
        lead_cache=None if cache is None else {
            "directory": None if cache.directory is None else os.fspath(cache.directory),
            "lookups": int(np.sum(arr[:, 6])),
            "hits": int(np.sum(arr[:, 7]) + np.sum(arr[:, 8])),
            "memory_hits": int(np.sum(arr[:, 7])),
            "disk_hits": int(np.sum(arr[:, 8])),
            "misses": int(np.sum(arr[:, 9])),
            "leads_s_per_k": float(np.mean(arr[:, 10])),
        },
        soc_form=soc_form,
        linearisation=potentials.linearisation,
        kgrid=kgrid,
    )
