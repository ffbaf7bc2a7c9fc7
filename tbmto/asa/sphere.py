"""Atomic sphere: frozen core, valence density from band moments, Hartree + LSDA potential.

Inside a sphere of radius s (= w) the spin densities are the frozen free-atom core (half per
spin) plus the valence density built from the ASA band moments (per spin σ and l)

    4π r² n_σ(r) = Σ_l [ m0 φ_l² + 2 m1 φ_l φ̇_l + m2 (φ̇_l² + φ_l φ̈_l) ],

m_p = ∫ (E − E_ν)^p N_lσ(E) f(E) dE, with φ² read as P² + (r f)² (large + small component;
Andersen, Jepsen & Šob, Springer Lecture Notes in Physics 283 (1987)). The potential is

    V_σ(r) = −2Z/r + 2 [q(r)/r + ∫_r^s 4π r' n(r') dr'] + v_xc,σ(r) + V_M   (Ry),

whose electrostatic part equals 2(q(s) − Z)/s + V_M at r = s; for a neutral sphere and V_M = 0
this is the "electrostatic zero of the neutral sphere" used for all parameters. V_M is the
Madelung potential of the other spheres' net charges (alloys). The frozen core is taken from
the free atom; the part of it outside s (the core tail, reported as ``core_spill``) is
returned into the sphere by scaling the core density by N_core / ∫_0^s n_core so that every
sphere holds exactly N_core core electrons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from ..materials import atomic_number
from .atom import core_shells, free_atom, hartree_potential
from .mesh import LogMesh, log_mesh
from .parameters import RadialSet
from .xc import lsda_xc

SPHERE_MESH_POINTS: int = 1001
"""Radial points from 2·10⁻⁵/Z bohr to s."""


@dataclass
class Sphere:
    """Static data of one species' atomic sphere.

    Attributes
    ----------
    symbol : str
    z : int
        Nuclear charge.
    radius_bohr : float
        Sphere radius s = w (bohr).
    mesh : LogMesh
    core_density : ndarray (n,)
        Frozen core density, both spins (e/bohr³), normalised to ``n_core`` inside s.
    n_core : float
    n_valence : float
        Z − n_core.
    core_spill : float
        Core electrons of the free atom outside s (before renormalisation).
    atom_valence_density : ndarray (n,)
        Free-atom valence density interpolated on the mesh (start density).
    """

    symbol: str
    z: int
    radius_bohr: float
    mesh: LogMesh
    core_density: np.ndarray
    n_core: float
    n_valence: float
    core_spill: float
    atom_valence_density: np.ndarray


def _interp_positive(r_from: np.ndarray, n_from: np.ndarray, r_to: np.ndarray) -> np.ndarray:
    """Interpolate a positive density in (ln r, ln n) by a cubic spline."""
    floor = 1e-300
    spl = CubicSpline(np.log(r_from), np.log(np.maximum(n_from, floor)))
    out = np.exp(spl(np.log(r_to)))
    out[r_to < r_from[0]] = n_from[0]
    return out


def make_sphere(symbol: str, radius_bohr: float, n_mesh: int = SPHERE_MESH_POINTS) -> Sphere:
    """Build the sphere of ``symbol`` with radius ``radius_bohr`` from the free LSDA atom.

    Raises
    ------
    ValueError
        For an unknown element or a radius outside 1.5–6.5 bohr.
    """
    z = atomic_number(symbol)
    if not 1.5 <= float(radius_bohr) <= 6.5:
        raise ValueError(f"radius_bohr must lie in [1.5, 6.5] bohr, got {radius_bohr!r}")
    atom = free_atom(symbol)
    mesh = log_mesh(float(radius_bohr), n_mesh, 2e-5 / z)
    n_core = float(sum(core_shells(symbol).values()))
    core_atom = atom.core_density
    core = _interp_positive(atom.mesh.r, core_atom, mesh.r) if n_core > 0 else np.zeros(mesh.n)
    inside = float(mesh.integrate(4 * np.pi * mesh.r**2 * core)) if n_core > 0 else 0.0
    spill = n_core - inside
    if n_core > 0:
        core *= n_core / inside
    # valence shells may have radial nodes: interpolate r² n (smooth, finite) in ln r
    r2n = CubicSpline(np.log(atom.mesh.r), atom.mesh.r**2 * atom.valence_density)(np.log(mesh.r))
    val = np.maximum(r2n, 0.0) / mesh.r**2
    return Sphere(symbol=symbol, z=z, radius_bohr=float(radius_bohr), mesh=mesh,
                  core_density=core, n_core=n_core, n_valence=z - n_core, core_spill=spill,
                  atom_valence_density=val)


def initial_valence_density(sphere: Sphere, moment: float) -> np.ndarray:
    """Start density (2, n): the free-atom valence density inside s plus the valence charge the
    atom has outside s spread uniformly over the sphere (so the sphere holds Z − N_core), split
    between spins so that the spin moment is ``moment`` (μB)."""
    nv = sphere.n_valence
    if abs(moment) > nv:
        raise ValueError(f"initial moment must not exceed the valence charge {nv}, got {moment}")
    mesh = sphere.mesh
    dens = sphere.atom_valence_density
    missing = nv - float(mesh.integrate(4 * np.pi * mesh.r**2 * dens))
    dens = dens + missing / (4.0 * np.pi * sphere.radius_bohr**3 / 3.0)
    return np.stack([dens * (nv + moment) / (2 * nv), dens * (nv - moment) / (2 * nv)])


def valence_density(mesh: LogMesh, radial: RadialSet, m0, m1, m2) -> np.ndarray:
    """Valence spin densities (2, n) in e/bohr³ from moments m0, m1, m2 of shape (2, 3)."""
    m0, m1, m2 = (np.asarray(m)[..., None] for m in (m0, m1, m2))
    rd = radial
    radial_density = (m0 * (rd.p**2 + rd.f**2)
                      + 2.0 * m1 * (rd.p * rd.pdot + rd.f * rd.fdot)
                      + m2 * (rd.pdot**2 + rd.p * rd.pddot + rd.fdot**2 + rd.f * rd.fddot))
    return radial_density.sum(axis=1) / (4.0 * np.pi * mesh.r**2)


def sphere_potential(sphere: Sphere, n_valence: np.ndarray, v_madelung: float = 0.0) -> np.ndarray:
    """Spin potentials V_σ(r) (2, n) in Ry for the valence spin densities (2, n).

    V_σ = −2Z/r + V_H[n_core + n↑ + n↓] + v_xc,σ[n_core/2 + n_σ] + V_M (see module docstring).
    """
    mesh = sphere.mesh
    n_valence = np.asarray(n_valence, float)
    if n_valence.shape != (2, mesh.n):
        raise ValueError(f"n_valence must have shape (2, {mesh.n}), got {n_valence.shape}")
    n_up = 0.5 * sphere.core_density + n_valence[0]
    n_dn = 0.5 * sphere.core_density + n_valence[1]
    vh = hartree_potential(mesh, n_up + n_dn)
    _, vxu, vxd = lsda_xc(n_up, n_dn)
    ves = -2.0 * sphere.z / mesh.r + vh + v_madelung
    return np.stack([ves + vxu, ves + vxd])


def sphere_charge(sphere: Sphere, n_valence: np.ndarray) -> np.ndarray:
    """Valence electrons per spin inside the sphere, ∫ 4π r² n_σ dr, shape (2,)."""
    return sphere.mesh.integrate(4.0 * np.pi * sphere.mesh.r**2 * np.asarray(n_valence))
