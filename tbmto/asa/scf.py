"""LSDA atomic-sphere self-consistency for bulk fcc/bcc elements and random alloys.

The mixed state is the set of ASA band moments per species, spin σ and l: the partial charge
m0, the centre of gravity c̄ = E_ν + m1/m0 of the occupied partial band and its width
m2/m0 − (m1/m0)² (independent of E_ν). One iteration:

1. sphere program (:func:`sphere_scf`): for fixed moments, with E_ν = c̄ (so m1 = 0), iterate
   V_σ → φ, φ̇, φ̈ at E_ν → n_σ = Σ_l [m0 φ² + m2 (φ̇² + φφ̈)]/4πr² (+ frozen core) → V_σ to
   self-consistency (Hartree + PW92 LSDA, Madelung shift for alloys); this gives C, Δ, γ, ξ;
2. bands H_σ(k) = C + √Δ S^γ(k) √Δ on a shifted k-mesh (S^α(k) from
   :func:`tbmto.lmto.structure_constants.bloch_salpha`, computed once), Fermi level with
   Fermi–Dirac smearing, output moments per site, spin, l (:mod:`tbmto.asa.bands`);
3. Anderson mixing of (m0, c̄, width) — a small vector (18 numbers per species).

This is the classic LMTO-ASA moment scheme (sphere program + band program); mixing the
moments instead of the density keeps the strong intra-sphere d ↔ sp charge response of the
first iterations under control. Converged when successive C and Δ (all species, spins, l) and
E_F change by less than ``tol_Ry`` and the weighted moment residual is below 10·tol_Ry. On
exit the spheres are checked for neutrality (elements: Σ m0 = Z − N_core; sphere density
integrates to Σ m0).

Alloy models
------------
A composition with one species is the element on the one-site primitive cell. A random alloy
of any number of species goes through an alloy model (:data:`ALLOY_MODELS`, argument
``alloy_model``, default ``"cpa"``); both share the sphere program and the moment mixing and
differ in the band program that turns potential parameters into species moments:

``"cpa"`` (default): the single-site coherent potential approximation in the screened
TB-LMTO-ASA Green's-function formalism (:mod:`tbmto.asa.cpa`, :class:`CPAProgram`): exact
concentrations (dilute dopants of 1 % are fine), the lattice's point symmetry in the
Brillouin-zone sums (``cpa_kmesh``), Fermi–Dirac occupations with the same kT. Electrostatics
are single-site (no Madelung term); optionally the screened-impurity model
(``cpa_screening`` = α_scr: V_Q = −2 α_scr Δq_Q / w in Ry, Δq_Q the net sphere charge;
Korzhavyi, Ruban, Abrikosov & Skriver, PRB 51, 5773 (1995)).

``"supercell"`` (species-averaged supercell): :data:`SUPERCELL_REPS` conventional cubic cells
(32 sites for fcc and bcc) hold exactly the counts of
:func:`tbmto.composition.species_counts` (the fractions are resolved in steps of 1/32), the
sites of every species after the first (in the composition's order) drawn at random from the
sites left (``seed``; ``configurations`` > 1 adds further occupations, seeds seed + 1, …,
solved together with one Fermi level). All sites of one species share one sphere potential,
built from the species-averaged moments (started from the self-consistent pure elements in the
same lattice at the alloy lattice constant, 8³ mesh, with the starting moments imposed on the d
channel). Inter-sphere electrostatics enter as the species-averaged Madelung potential
V_M = −2 Σ_j M_ij Δq_j (Ewald, :mod:`tbmto.asa.madelung`) of the sphere charges
Δq = Z − N_core − Σ m0. This is a supercell approximation to the coherent potential
approximation (CPA), not the CPA.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import __version__
from ..errors import PhysicsError
from ..composition import check_composition, composition_label, species_counts
from ..materials import atomic_number, vegard_lattice_constant, wigner_seitz_radius
from .atom import _anderson
from .bands import band_moments, diagonalise, fermi_level, structure_constants_k
from .cpa import CPABands, CPASettings
from ..io import POTENTIALS_FORMAT
from .madelung import madelung_matrix
from .parameters import potential_parameters
from .sphere import (Sphere, initial_valence_density, make_sphere, sphere_charge,
                     sphere_potential, valence_density)

BOHR_ANGSTROM = 0.529177210903

INITIAL_MOMENT: dict[str, float] = {"Fe": 2.6, "Co": 1.7, "Ni": 0.7, "Mn": 3.0, "Cr": 1.0}
"""Starting spin moments (μB); other elements start at 0.3 μB except filled-d metals (0)."""

_FILLED_D = {"Cu", "Ag", "Au", "Zn", "Cd", "Hg", "Ga", "In"}
_LATTICES = ("fcc", "bcc")
ALLOY_MODELS: tuple[str, ...] = ("cpa", "supercell")
"""Alloy models of :func:`scf` (see the module docstring)."""
SUPERCELL_REPS: dict[str, tuple[int, int, int]] = {"fcc": (2, 2, 2), "bcc": (2, 2, 4)}
"""Conventional cubic cells along x, y, z of the alloy supercell: 32 sites in fcc and bcc."""
_CONVENTIONAL_BASIS = {
    "fcc": np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]),
    "bcc": np.array([[0, 0, 0], [0.5, 0.5, 0.5]]),
}


@dataclass
class Geometry:
    """Crystal used for the bands: cell (Å, rows), site positions (Å), site → species index."""

    cell: np.ndarray
    positions: np.ndarray
    site_species: np.ndarray
    lattice_constant: float
    w_angstrom: float


def primitive_geometry(lattice: str, a: float) -> Geometry:
    """One-site primitive fcc or bcc cell."""
    if lattice == "fcc":
        cell = 0.5 * a * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
    else:
        cell = 0.5 * a * np.array([[-1.0, 1, 1], [1, -1, 1], [1, 1, -1]])
    return Geometry(cell=cell, positions=np.zeros((1, 3)), site_species=np.zeros(1, int),
                    lattice_constant=a, w_angstrom=wigner_seitz_radius(a, lattice))


def supercell_geometry(lattice: str, a: float, counts: list[int], seed: int,
                       reps: tuple[int, int, int] | None = None) -> Geometry:
    """Random substitutional supercell of ``reps`` conventional cubic cells (Å).

    Parameters
    ----------
    lattice : {"fcc", "bcc"}
    a : float
        Cubic lattice constant (Å).
    counts : list of int
        Sites of each species (index order), summing to the number of sites.
    seed : int
        Seed of the occupation: species 1, 2, … are drawn in turn from the sites left
        (``numpy.random.default_rng(seed).choice`` without replacement); species 0 takes the
        rest.
    reps : tuple of 3 int, optional
        Default :data:`SUPERCELL_REPS` of the lattice.
    """
    reps = SUPERCELL_REPS[lattice] if reps is None else tuple(reps)
    basis = _CONVENTIONAL_BASIS[lattice]
    grid = np.stack(np.meshgrid(*[np.arange(r) for r in reps], indexing="ij"), -1).reshape(-1, 3)
    pos = ((grid[:, None, :] + basis[None]).reshape(-1, 3)) * a
    nsite = len(pos)
    if sum(counts) != nsite or min(counts) < 0:
        raise ValueError(f"species counts {counts} do not fill the {nsite} supercell sites")
    rng = np.random.default_rng(seed)
    species = np.zeros(nsite, int)
    free = np.arange(nsite)
    for k, n in enumerate(counts[1:], start=1):
        pick = rng.choice(len(free), size=n, replace=False)
        species[free[pick]] = k
        free = np.delete(free, pick)
    return Geometry(cell=np.diag(np.array(reps, float)) * a, positions=pos,
                    site_species=species, lattice_constant=a,
                    w_angstrom=wigner_seitz_radius(a, lattice))


def supercell_kmesh(kmesh: int, geom: Geometry) -> tuple[int, int, int]:
    """Divisions per supercell reciprocal vector with about the k density of the primitive
    kmesh³ mesh: n_i = max(2, ⌈kmesh · Ω^{1/3} / |A_i|⌉), Ω the volume per site (Π n_i ≈
    kmesh³ / N_sites)."""
    omega = abs(np.linalg.det(geom.cell)) / len(geom.positions)
    lengths = np.linalg.norm(geom.cell, axis=1)
    return tuple(max(2, int(math.ceil(kmesh * omega ** (1 / 3) / L - 1e-9))) for L in lengths)


@dataclass
class _SpeciesState:
    sphere: Sphere
    n_val: np.ndarray
    params: object = None
    m0: np.ndarray | None = None
    v: np.ndarray | None = None


def _initial_e_nu(sp: Sphere, v: np.ndarray) -> np.ndarray:
    """E_ν start: iterate E_ν ← C from −0.2 Ry (C is where D_l(E) = −l − 1, linearised)."""
    e_nu = np.full((2, 3), -0.2)
    for _ in range(4):
        pp = potential_parameters(sp.mesh, v, e_nu)
        e_nu = np.clip(pp.C, -1.5, 1.5)
    return e_nu


def sphere_scf(sphere: Sphere, m0: np.ndarray, e_nu: np.ndarray, m2: np.ndarray,
               n_start: np.ndarray, v_madelung: float = 0.0, tol: float = 1e-9,
               max_iter: int = 100):
    """Self-consistent sphere at fixed band moments (the ASA "sphere program").

    With E_ν at the band centres of gravity (m1 = 0), iterate V → φ, φ̇, φ̈ at E_ν →
    n = Σ_l [m0 φ² + m2 (φ̇² + φφ̈)]/4πr² → V (Anderson mixing) until ∫|Δn| 4πr² dr < tol.

    Parameters
    ----------
    sphere : Sphere
    m0, e_nu, m2 : ndarray (2, 3)
        Partial charges, centres of gravity (Ry) and second moments about them (Ry²).
    n_start : ndarray (2, n)
        Starting valence spin densities (e/bohr³).
    v_madelung : float
        Madelung shift of the potential (Ry).

    Returns
    -------
    params : PotentialParameters
        Parameters of the potential ``v`` at ``e_nu``.
    n_val : ndarray (2, n)
        Self-consistent valence spin densities.
    v : ndarray (2, n)
        The spin potentials V_σ(r) (Ry) whose parameters are ``params``.
    """
    mesh = sphere.mesh
    wgt = 4.0 * np.pi * mesh.r**2 * np.sqrt(mesh.r * mesh.h)
    n = n_start.copy()
    hx: list = []
    hf: list = []
    zero = np.zeros_like(m0)
    for _ in range(max_iter):
        v = sphere_potential(sphere, n, v_madelung)
        pp = potential_parameters(mesh, v, e_nu)
        n_out = valence_density(mesh, pp.radial, m0, zero, m2)
        err = float(np.sum(mesh.integrate(4 * np.pi * mesh.r**2 * np.abs(n_out - n))))
        if err < tol:
            return pp, n_out, v
        x = _anderson(n * wgt, (n_out - n) * wgt, hx, hf, beta=0.5, depth=5)
        n = x / wgt
    raise PhysicsError(f"sphere self-consistency for {sphere.symbol} at fixed moments did not "
                       f"converge in {max_iter} iterations (density change {err:.1e} e)")


def _moment_vector(m0, m1, m2):
    """(m0, centre of gravity offset m1/m0, width m2/m0 − (m1/m0)²) per spin and l."""
    m0 = np.maximum(m0, 1e-8)
    shift = m1 / m0
    return m0, shift, np.maximum(m2 / m0 - shift**2, 0.0)


def _validate(comp: dict, lattice: str, a, kmesh, smearing_Ry, max_iter, tol_Ry,
              configurations, alloy_model, cpa_kmesh=16, cpa_screening=None):
    if lattice not in _LATTICES:
        raise ValueError(f"lattice must be one of {_LATTICES}, got {lattice!r}")
    for el in comp:
        if atomic_number(el) < 3:
            raise ValueError(f"composition: {el!r} has no s, p, d valence set; elements from Li "
                             "on are supported")
    if int(kmesh) != kmesh or kmesh < 2:
        raise ValueError(f"kmesh must be an integer ≥ 2, got {kmesh!r}")
    if not 0 < smearing_Ry <= 0.1:
        raise ValueError(f"smearing_Ry must lie in (0, 0.1] Ry, got {smearing_Ry!r}")
    if int(configurations) != configurations or configurations < 1:
        raise ValueError(f"configurations must be a positive integer, got {configurations!r}")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not 0 < tol_Ry < 1e-2:
        raise ValueError(f"tol_Ry must lie in (0, 1e-2) Ry, got {tol_Ry!r}")
    if alloy_model not in ALLOY_MODELS:
        raise ValueError(f"alloy_model must be one of {list(ALLOY_MODELS)}, got {alloy_model!r}")
    if int(cpa_kmesh) != cpa_kmesh or cpa_kmesh < 2:
        raise ValueError(f"cpa_kmesh must be an integer ≥ 2, got {cpa_kmesh!r}")
    if cpa_screening is not None and not 0.0 <= float(cpa_screening) <= 2.0:
        raise ValueError(f"cpa_screening must lie in [0, 2] (or None), got {cpa_screening!r}")
    if a is not None:
        w_bohr = wigner_seitz_radius(float(a), lattice) / BOHR_ANGSTROM
        if not np.isfinite(a) or not 1.8 <= w_bohr <= 6.0:
            raise ValueError(f"a = {a!r} Å gives w = {w_bohr:.3f} bohr outside the sensible "
                             f"range 1.8–6.0 bohr for {lattice}")


def _supercell_model(comp: dict, lattice: str, a: float, kmesh: int, seed: int,
                     configurations: int):
    """Geometries, k divisions and description of the species-averaged supercell model."""
    nsite = len(_CONVENTIONAL_BASIS[lattice]) * int(np.prod(SUPERCELL_REPS[lattice]))
    counts = species_counts(comp, nsite)
    empty = [el for el, n in counts.items() if n == 0]
    if empty:
        raise ValueError(
            f"composition {comp}: {', '.join(empty)} round(s) to 0 of the {nsite} sites of the "
            f"{lattice} alloy supercell (fractions are resolved in steps of 1/{nsite}); raise "
            "the fraction or drop the species")
    geoms = [supercell_geometry(lattice, a, list(counts.values()), seed + c)
             for c in range(configurations)]
    nk = supercell_kmesh(kmesh, geoms[0])
    method = (f"supercell-species-averaged ({nsite}-site {'x'.join(map(str, SUPERCELL_REPS[lattice]))} "
              f"conventional {lattice}, counts "
              + ", ".join(f"{el} {n}" for el, n in counts.items())
              + f", {configurations} random occupation(s) from seed {seed}, Ewald Madelung)")
    return geoms, nk, method, counts


def scf(composition: str | Mapping[str, float], lattice: str = "fcc", a: float | None = None,
        *, kmesh: int = 12, smearing_Ry: float = 0.005, max_iter: int = 80,
        tol_Ry: float = 1e-5, seed: int = 0, progress: bool = True,
        initial_moment: float | None = None, mixing: float = 0.25, configurations: int = 1,
        alloy_model: str = "cpa", cpa_kmesh: int = 16, cpa_screening: float | None = None) -> dict:
    """Self-consistent LSDA-ASA potential parameters of a bulk element or random alloy.

    Parameters
    ----------
    composition : str or mapping
        An element symbol (``"Cu"``, ``"Fe"``, ``"W"``, …) or {element: fraction} with any
        number of species (``{"Fe": 0.75, "Co": 0.25}``), fractions summing to 1
        (:func:`tbmto.composition.check_composition`; zero fractions are dropped).
    lattice : {"fcc", "bcc"}
        Crystal structure.
    a : float, optional
        Cubic lattice constant (Å). Default: Vegard's law over the element table,
        :func:`tbmto.materials.vegard_lattice_constant` (ValueError for an element without
        data: pass ``a``).
    kmesh : int
        k divisions per reciprocal vector of the primitive cell (shifted mesh); the alloy
        supercell uses the same k density (:func:`supercell_kmesh`).
    smearing_Ry : float
        Fermi–Dirac kT (Ry).
    max_iter : int
        Maximum iterations.
    tol_Ry : float
        Convergence of C, Δ (all species, spins, l) and E_F between iterations (Ry).
    seed : int
        Seed of the random alloy occupation.
    progress : bool
        Print one line per iteration.
    initial_moment : float, optional
        Starting spin moment per site (μB); default :data:`INITIAL_MOMENT`.
    mixing : float
        Anderson mixing parameter β.
    configurations : int
        Number of random alloy supercells (seeds ``seed`` … ``seed + configurations − 1``)
        averaged in one self-consistency (one common Fermi level); elements ignore it.
    alloy_model : str
        One of :data:`ALLOY_MODELS` (alloys only; default ``"cpa"``).
    cpa_kmesh : int
        CPA: k density of the Brillouin-zone sums, as divisions per primitive reciprocal vector
        (:func:`tbmto.asa.cpa.cubic_kpoints`). Ni80Fe20: Ni moment 0.593, 0.633, 0.629 μB at
        12, 16, 20 (default 16).
    cpa_screening : float, optional
        CPA: screened-impurity constant α_scr (see the module docstring); None (default):
        single-site electrostatics.

    Returns
    -------
    dict
        JSON-ready potentials in the :data:`tbmto.io.POTENTIALS_FORMAT` format
        (docs/interfaces.md): ``system`` (the composition label, e.g. ``Fe0.75Co0.25``),
        ``composition``, parameters at the band centres of gravity and, per species, the
        self-consistent spherical potentials V_σ(r) (:func:`radial_record`).

    Raises
    ------
    ValueError
        For bad arguments (unknown element, fractions not summing to 1, lattice, a out of
        range, a species that rounds to no supercell site, …).
    tbmto.errors.PhysicsError
        If the self-consistency (or, for the CPA, the CPA condition or the Fermi level) does not
        converge within ``max_iter`` iterations (a ``RuntimeError``).
    """
    comp = check_composition(composition)
    _validate(comp, lattice, a, kmesh, smearing_Ry, max_iter, tol_Ry, configurations,
              alloy_model, cpa_kmesh, cpa_screening)
    t0 = time.perf_counter()
    a = vegard_lattice_constant(comp, lattice) if a is None else float(a)
    species = list(comp)
    model = alloy_model if len(species) > 1 else None
    settings = {"kmesh_primitive_equivalent": int(kmesh), "smearing_Ry": float(smearing_Ry),
                "tol_Ry": float(tol_Ry), "max_iter": int(max_iter), "mixing": float(mixing),
                "alloy_model": model}
    if model is None:
        geoms = [primitive_geometry(lattice, a)]
        program = SupercellBands(geoms, int(kmesh), smearing_Ry, 1)
        method = "single-site element"
        site_fraction = {species[0]: 1.0}
        settings.update(kmesh=[int(kmesh)] * 3, n_sites=1)
    elif model == "supercell":
        geoms, nk, method, counts = _supercell_model(comp, lattice, a, int(kmesh), int(seed),
                                                     int(configurations))
        program = SupercellBands(geoms, nk, smearing_Ry, len(species))
        n_sites = len(geoms[0].site_species)
        site_fraction = {el: n / n_sites for el, n in counts.items()}
        settings.update(kmesh=[int(n) for n in nk], n_sites=n_sites, seed=int(seed),
                        configurations=len(geoms), site_counts={el: int(n) for el, n in counts.items()})
    else:
        n_valence = [make_sphere(el, wigner_seitz_radius(a, lattice) / BOHR_ANGSTROM).n_valence
                     for el in species]
        program = CPAProgram(lattice, a, list(comp.values()), n_valence, int(cpa_kmesh),
                             smearing_Ry, screening=cpa_screening)
        cs = program.cpa.settings
        electrostatics = ("no Madelung term" if cpa_screening is None else
                          f"screened-impurity model, alpha_scr = {float(cpa_screening):g}")
        method = (f"single-site CPA (TB-LMTO-ASA, O_h-reduced k grid of {len(program.cpa.weights)} "
                  f"points, Fermi-Dirac contour of {cs.n_points} points + {cs.n_poles} Matsubara "
                  f"poles, {electrostatics})")
        site_fraction = dict(comp)
        settings.update(cpa_kmesh=int(cpa_kmesh), n_kpoints=int(len(program.cpa.weights)),
                        n_contour=int(cs.n_points), n_poles=int(cs.n_poles), cpa_tol=float(cs.tol),
                        cpa_screening=None if cpa_screening is None else float(cpa_screening))
    start = (_element_start(species, lattice, a, smearing_Ry, max_iter, mixing)
             if len(species) > 1 else None)
    result = _run(species, program, max_iter, tol_Ry, progress, initial_moment, mixing, start=start)
    if model == "cpa":
        settings["cpa_max_iterations"] = int(program.cpa.cpa_iterations)
    data = {
        "format": POTENTIALS_FORMAT,
        "system": composition_label(comp), "lattice": lattice,
        "composition": {el: float(c) for el, c in comp.items()},
        "lattice_constant_angstrom": float(a),
        "wigner_seitz_radius_bohr": float(program.w_angstrom / BOHR_ANGSTROM),
        "fermi_energy_Ry": float(result["mu"]),
        "species": {},
        "provenance": {
            "tbmto_version": __version__,
            "method": ("LSDA (PW92) LMTO-ASA, scalar-relativistic, frozen free-atom core, "
                       "orthogonal-representation 2nd-order H, s = w; " + method),
            "settings": settings,
            "converged": True,
            "iterations": int(result["iterations"]),
            "residual_Ry": float(result["residual"]),
            "seconds": float(time.perf_counter() - t0),
            "species_details": {},
        },
    }
    for k, name in enumerate(species):
        st = result["states"][k]
        pp = st.params
        q = st.m0
        data["species"][name] = {
            "concentration": float(comp[name]),
            "site_fraction": float(site_fraction[name]),
            "moment_muB": float(q[0].sum() - q[1].sum()),
            "charges": {"up": q[0].tolist(), "down": q[1].tolist()},
            "C_Ry": {"up": pp.C[0].tolist(), "down": pp.C[1].tolist()},
            "sqrt_delta_Ry": {"up": pp.sqrt_delta[0].tolist(), "down": pp.sqrt_delta[1].tolist()},
            "gamma": {"up": pp.gamma[0].tolist(), "down": pp.gamma[1].tolist()},
            "xi_Ry": [0.0, float(pp.xi[:, 1].mean()), float(pp.xi[:, 2].mean())],
            "radial": radial_record(st.sphere, st.v),
        }
        data["provenance"]["species_details"][name] = {
            "e_nu_Ry": {"up": pp.e_nu[0].tolist(), "down": pp.e_nu[1].tolist()},
            "free_atom_core_electrons_outside_sphere": float(st.sphere.core_spill),
            "core_electrons": float(st.sphere.n_core),
            "net_charge_e": float(st.sphere.n_valence - q.sum()),
        }
    return data


def radial_record(sphere: Sphere, v: np.ndarray) -> dict:
    """The self-consistent spherical potential of one species as stored in a potentials file.

    The log mesh is stored by its end points and size (``tbmto.asa.mesh.log_mesh(s, n, r_min)``
    rebuilds it bit for bit); V_σ(r) in Ry on that mesh, spin ↑/↓ along the local moment, in
    the file's absolute energy zero (the zero of ``fermi_energy_Ry``).
    """
    mesh = sphere.mesh
    return {
        "z": int(sphere.z),
        "core_electrons": float(sphere.n_core),
        "sphere_radius_bohr": float(mesh.r[-1]),
        "r_min_bohr": float(mesh.r[0]),
        "n_mesh": int(mesh.n),
        "V_Ry": {"up": [float(x) for x in v[0]], "down": [float(x) for x in v[1]]},
    }


ELEMENT_START_KMESH = 8
"""k-mesh of the pure-element runs that start an alloy self-consistency."""


def _element_start(species, lattice: str, a: float, kT: float, max_iter: int, beta: float):
    """Start moments and densities of an alloy: each species as the pure element in the alloy's
    lattice at the alloy lattice constant (coarse mesh, tol 1e−4 Ry). Falls back to the
    free-atom start (returns None) if any element run fails to converge."""
    start = []
    for name in species:
        try:
            res = _run([name], SupercellBands([primitive_geometry(lattice, a)], ELEMENT_START_KMESH,
                                              kT, 1), max_iter, 1e-4, False, None, beta)
        except RuntimeError:
            return None
        start.append((res["moments"][0], res["states"][0].n_val))
    return start


def _check_neutrality(states, nsp: int, tol: float = 1e-5) -> None:
    """Sphere neutrality: the density holds Σ m0 electrons; a one-species crystal is neutral."""
    for st in states:
        q_density = float(sphere_charge(st.sphere, st.n_val).sum())
        if abs(q_density - st.m0.sum()) > 1e-3:
            raise RuntimeError(f"sphere density of {st.sphere.symbol} holds {q_density:.6f} "
                               f"electrons but the moments {st.m0.sum():.6f}")
        if nsp == 1 and abs(st.m0.sum() - st.sphere.n_valence) > tol:
            raise RuntimeError(f"{st.sphere.symbol} sphere is not neutral: {st.m0.sum():.6f} "
                               f"valence electrons instead of {st.sphere.n_valence}")


ANDERSON_DEPTH = 8
"""Number of previous iterations kept by the Anderson mixer."""
MOMENT_WEIGHTS = (1.0, 5.0, 20.0)
"""Weights of (m0 [e], centre [Ry], width [Ry²]) in the mixing vector."""


class SupercellBands:
    """Band program of the supercell alloy model (and of the elements): eigenpairs of
    H = C + √Δ S^γ √Δ on every configuration's k-mesh, one Fermi level (Fermi–Dirac smearing
    kT), species moments averaged over all sites of a species, Ewald Madelung shifts.

    Parameters
    ----------
    geoms : list of Geometry
        One or more cells of the same composition (alloy configurations).
    nk : int or tuple of 3 int
        k divisions per cell reciprocal vector.
    kT : float
        Smearing (Ry).
    n_species : int
    """

    def __init__(self, geoms: list[Geometry], nk, kT: float, n_species: int):
        self.geoms, self.kT, self.nsp = geoms, kT, n_species
        self.kdata = [structure_constants_k(g.cell, g.positions, g.w_angstrom, nk) for g in geoms]
        self.w_all = np.concatenate([wk for _, wk in self.kdata]) / len(geoms)
        self.mads = ([madelung_matrix(g.cell / BOHR_ANGSTROM, g.positions / BOHR_ANGSTROM)
                      for g in geoms] if n_species > 1 else None)
        self.all_sp = np.concatenate([g.site_species for g in geoms])
        self.counts = np.bincount(geoms[0].site_species, minlength=n_species)
        self.w_angstrom = geoms[0].w_angstrom

    def electrons(self, n_valence: np.ndarray) -> float:
        """Valence electrons of one cell."""
        return float(np.dot(self.counts, n_valence))

    def madelung(self, dq: np.ndarray) -> np.ndarray:
        """Species-averaged Madelung shifts V_M = −2 Σ_j M_ij Δq_j (Ry) of the sphere charges."""
        if self.mads is None:
            return np.zeros(self.nsp)
        v_site = np.concatenate([-2.0 * m @ dq[g.site_species] for m, g in zip(self.mads, self.geoms)])
        return np.array([v_site[self.all_sp == k].mean() for k in range(self.nsp)])

    def bands(self, params_list, n_val: float):
        """Fermi level (Ry) and, per species, the moment vector (m0, centre, width) (3, 2, 3)."""
        eig_list, part_list = [], []
        for g, (salpha, _) in zip(self.geoms, self.kdata):
            sp = g.site_species
            eigs, partial = diagonalise(salpha, np.stack([params_list[k].C for k in sp]),
                                        np.stack([params_list[k].sqrt_delta for k in sp]),
                                        np.stack([params_list[k].gamma for k in sp]))
            eig_list.append(eigs)
            part_list.append(partial)
        mu = fermi_level(np.concatenate(eig_list, axis=1), self.w_all, n_val, self.kT)
        moms = [band_moments(e, p, wk, mu, self.kT, np.stack([params_list[k].e_nu
                                                               for k in g.site_species]))
                for e, p, (_, wk), g in zip(eig_list, part_list, self.kdata, self.geoms)]
        m0, m1, m2 = (np.concatenate([m[i] for m in moms]) for i in range(3))
        out = []
        for k in range(self.nsp):
            sel = self.all_sp == k
            q0, sh, wd = _moment_vector(m0[sel].mean(0), m1[sel].mean(0), m2[sel].mean(0))
            out.append(np.stack([q0, params_list[k].e_nu + sh, wd]))
        return mu, out


class CPAProgram:
    """Band program of the CPA alloy model (:class:`tbmto.asa.cpa.CPABands`): species moments
    from the coherent-potential Green's functions; single-site electrostatics, or the
    screened-impurity shift −2 α_scr Δq_Q / w (Ry) with ``screening`` = α_scr."""

    def __init__(self, lattice: str, a: float, conc, n_valence, kmesh: int, kT: float,
                 settings: CPASettings | None = None, screening: float | None = None):
        self.cpa = CPABands.build(lattice, a, conc, n_valence, kmesh, kT, settings)
        self.nsp = len(conc)
        self.w_angstrom = wigner_seitz_radius(a, lattice)
        self.screening = screening

    def electrons(self, n_valence: np.ndarray) -> float:
        """Valence electrons per site, Σ_Q c_Q N_Q."""
        return float(np.dot(self.cpa.conc, n_valence))

    def madelung(self, dq: np.ndarray) -> np.ndarray:
        """No Madelung term (single site), or the screened-impurity shifts (Ry)."""
        if self.screening is None:
            return np.zeros(self.nsp)
        return -2.0 * float(self.screening) * np.asarray(dq, float) / (self.w_angstrom / BOHR_ANGSTROM)

    def bands(self, params_list, n_val: float):
        """Fermi level (Ry) and, per species, the moment vector (m0, centre, width) (3, 2, 3)."""
        st = np.stack
        mu, m0, m1, m2 = self.cpa.moments(st([p.C for p in params_list]),
                                          st([p.delta for p in params_list]),
                                          st([p.gamma for p in params_list]),
                                          st([p.e_nu for p in params_list]))
        out = []
        for k, p in enumerate(params_list):
            q0, sh, wd = _moment_vector(m0[k], m1[k], m2[k])
            out.append(np.stack([q0, p.e_nu + sh, wd]))
        return mu, out


def _run(species, program, max_iter, tol, progress, initial_moment, beta, start=None):
    """Outer loop: band moments (m0, centre, width) per species, spin, l are the mixed state.

    ``program`` is the band program (:class:`SupercellBands` or :class:`CPAProgram`): it gives
    the Fermi level and the species moments of the current potential parameters, the electron
    count and the Madelung shifts. ``start``: optional list per species of (moment vector
    (3, 2, 3), valence density (2, n)) to start from instead of the free-atom densities.
    """
    w_bohr = program.w_angstrom / BOHR_ANGSTROM
    nsp = len(species)
    states = []
    moments0 = []
    for name in species:
        sph = make_sphere(name, w_bohr)
        mom = initial_moment if initial_moment is not None else INITIAL_MOMENT.get(
            name, 0.0 if name in _FILLED_D else 0.3)
        moments0.append(float(mom))
        states.append(_SpeciesState(sphere=sph, n_val=initial_valence_density(sph, float(mom))))
    n_val = program.electrons(np.array([st.sphere.n_valence for st in states]))
    wts = np.array(MOMENT_WEIGHTS)[:, None, None]

    def bands(params_list):
        return program.bands(params_list, n_val)

    if start is None:
        # iteration 0: parameters of the starting density, E_ν at the band centres C
        first = []
        for st in states:
            v = sphere_potential(st.sphere, st.n_val)
            first.append(potential_parameters(st.sphere.mesh, v, _initial_e_nu(st.sphere, v)))
        mu, x_in = bands(first)
    else:
        # start from given moments and densities (e.g. the pure elements at the same a)
        x_in = [x.copy() for x, _ in start]
        for st, (_, dens) in zip(states, start):
            st.n_val = dens.copy()
    for st, mom, x in zip(states, moments0, x_in):
        # start from neutral spheres carrying the initial moment: rescale the first partial
        # charges, then set the d-channel spin split so that the sphere moment is ``mom``
        x[0] *= st.sphere.n_valence / x[0].sum()
        sp_moment = x[0][0, :2].sum() - x[0][1, :2].sum()
        d_tot = x[0][:, 2].sum()
        d_mom = np.clip(mom - sp_moment, -min(d_tot, 10.0 - d_tot), min(d_tot, 10.0 - d_tot))
        x[0][:, 2] = 0.5 * (d_tot + np.array([d_mom, -d_mom]))
    hist_x: list = []
    hist_f: list = []
    prev = mu_prev = None
    residual = np.inf
    for it in range(1, max_iter + 1):
        dq = np.array([st.sphere.n_valence - x[0].sum() for st, x in zip(states, x_in)])
        v_mad = program.madelung(dq)
        for k, st in enumerate(states):
            q0, centre, width = x_in[k]
            st.params, st.n_val, st.v = sphere_scf(st.sphere, q0, centre, q0 * width,
                                                   st.n_val, float(v_mad[k]))
            st.m0 = q0
        mu, x_out = bands([st.params for st in states])
        cur = np.concatenate([np.ravel([st.params.C, st.params.delta]) for st in states])
        if prev is not None:
            residual = max(float(np.max(np.abs(cur - prev))), abs(mu - mu_prev))
        mom_res = max(float(np.max(np.abs((xo - xi) * wts))) for xo, xi in zip(x_out, x_in))
        moments = [float(x[0][0].sum() - x[0][1].sum()) for x in x_out]
        if progress:
            mom_txt = " ".join(f"{n}:{m:+.4f}" for n, m in zip(species, moments))
            if nsp > 1:
                mom_txt += "  charge " + " ".join(f"{n}:{-d:+.4f}" for n, d in zip(species, dq))
            print(f"asa scf {it:3d}  E_F {mu:+.5f} Ry  parameter change {residual:.2e} Ry  "
                  f"moment residual {mom_res:.1e}  moments {mom_txt}", flush=True)
        if residual < tol and mom_res < 10 * tol:
            for st, x in zip(states, x_out):
                st.m0 = x[0]
            _check_neutrality(states, nsp)
            return {"states": states, "mu": mu, "iterations": it, "residual": residual,
                    "moments": x_out}
        prev, mu_prev = cur, mu
        xv = np.concatenate([(x * wts).ravel() for x in x_in])
        fv = np.concatenate([((xo - xi) * wts).ravel() for xo, xi in zip(x_out, x_in)])
        xn = _anderson(xv, fv, hist_x, hist_f, beta=beta, depth=ANDERSON_DEPTH)
        x_in = [(xn[k * 18:(k + 1) * 18].reshape(3, 2, 3) / wts) for k in range(nsp)]
        for x in x_in:
            x[0] = np.clip(x[0], 0.0, None)
            x[2] = np.clip(x[2], 0.0, None)
    raise PhysicsError(f"ASA self-consistency for {species} did not converge in {max_iter} "
                       f"iterations (last parameter change {residual:.2e} Ry > tol {tol:.1e}); "
                       "raise scf.max_iter, or check the lattice constant and the starting "
                       "moment (a magnetic/non-magnetic borderline converges slowly)")
