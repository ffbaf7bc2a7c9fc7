"""Reader of the ASA potentials files (format ``tbmto-potentials/2``) and the on-site parameters
used by transport.

A file holds, per species, the self-consistent spherical potentials V_σ(r) (spin ↑/↓ along the
local moment, on the sphere's log mesh), the sphere radius s = w, Z, moments, charges, the
Fermi level, and the second-order potential parameters of the orthogonal (γ) representation
linearised at the band centres of gravity (what the self-consistency used):

    P^α_l(E) = (E − C_l) / [Δ_l + (γ_l − α_l)(E − C_l)]

(Andersen & Jepsen, PRL 53, 2571 (1984)), plus the on-site SOC parameters ξ_l.

:func:`load` offers two linearisations for transport:

* ``"fermi"`` (default): for each species and spin the scalar-relativistic radial equation is
  solved again at E_ν = E_F of the file and C, Δ, γ, ξ_l^σ and ⟨φ|ξ|φ̇⟩ are built there
  (:func:`tbmto.asa.parameters.potential_parameters`,
  :func:`~tbmto.asa.parameters.spin_orbit_integrals`). The three-parameter form is exact at
  its E_ν, so P_l(E_F) is the exact potential function 2(2l+1)(D_l+l+1)/(D_l−l) of the sphere
  at the Fermi level (D_l the logarithmic derivative of φ_l(E_F, s)), and ξ is that of the
  Fermi-level radial functions. Resistivity, AMR and damping are Fermi-surface properties.
* ``"band_centre"``: the parameters stored in the file (E_ν at the band centres of gravity;
  P_l(E_F) then carries an error ∝ (E_F − E_ν)²). Files that hold parameters only (e.g.
  published parameter sets, ``"radial": null``) allow only this linearisation.

Energies in a file are absolute (electrostatic zero of the neutral sphere); :func:`load` shifts
C and all energies by −E_F of that file, so that every species refers to its own bulk Fermi
level at E = 0 (bulk Fermi levels aligned, no interface dipole). Δ, γ and ξ are unaffected by
the shift.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tbmto.io import LEGACY_POTENTIALS_FORMATS, POTENTIALS_FORMAT, read_json
from tbmto.asa.mesh import LogMesh, log_mesh

__all__ = [
    "LINEARISATIONS",
    "RadialPotential",
    "BOHR_ANGSTROM",
    "SpeciesPotential",
    "Potentials",
    "load",
]

LINEARISATIONS = ("fermi", "band_centre")
"""Allowed ``linearisation`` values of :func:`load` (and of ``transport.linearisation``)."""
BOHR_ANGSTROM = 0.529177210903
"""1 bohr in Å (CODATA 2018)."""

_SPINS = ("up", "down")


@dataclass(frozen=True)
class RadialPotential:
    """Self-consistent spherical potential of one species.

    Attributes
    ----------
    z : int
        Nuclear charge.
    core_electrons : float
        Frozen-core electrons in the sphere.
    mesh : LogMesh
        Radial log mesh (bohr), last point = sphere radius s.
    v : ndarray (2, n)
        V_σ(r) (Ry), spin ↑/↓ along the local moment, relative to the species' E_F
        (i.e. shifted by −E_F like every energy after :func:`load`).
    """

    z: int
    core_electrons: float
    mesh: LogMesh
    v: np.ndarray


@dataclass(frozen=True)
class SpeciesPotential:
    """Potential parameters of one species, energies relative to its file's E_F.

    Attributes
    ----------
    C : ndarray (2, 3)
        Band centres C_l (Ry), rows spin ↑/↓ along the local m, columns l = s, p, d.
    sqrt_delta : ndarray (2, 3)
        √Δ_l (Ry^½), band-width parameters.
    gamma : ndarray (2, 3)
        γ_l (dimensionless), on the w scale.
    xi : ndarray (3,)
        SOC parameters ξ_l (Ry), l = s, p, d.
    moment_muB : float
        Spin moment of the species (μB).
    concentration : float
        Concentration of the species in its source system.
    source : str
        Path of the file the species was read from.
    charges : ndarray (2, 3) or None
        Sphere charges per spin and l (electrons), when the file has them.
    linearisation : str
        ``"fermi"`` or ``"band_centre"`` (see the module docstring).
    e_nu : ndarray (2, 3) or None
        Linearisation energies relative to E_F (Ry): 0 for ``"fermi"``, the band centres of
        gravity for ``"band_centre"`` (None for a parameter-only file).
    xi_spin : ndarray (2, 3) or None
        Spin-resolved ξ_l^σ = ⟨φ_σ|ξ|φ_σ⟩ (Ry) at E_ν (``"fermi"`` only).
    xi_dot : ndarray (2, 3) or None
        ⟨φ_σ|ξ|φ̇_σ⟩ (dimensionless) at E_ν (``"fermi"`` only), for the screened SOC form.
    radial : RadialPotential or None
        The spherical potentials (None for a parameter-only file).
    """

    C: np.ndarray
    sqrt_delta: np.ndarray
    gamma: np.ndarray
    xi: np.ndarray
    moment_muB: float
    concentration: float
    source: str
    charges: np.ndarray | None = None
    linearisation: str = "band_centre"
    e_nu: np.ndarray | None = None
    xi_spin: np.ndarray | None = None
    xi_dot: np.ndarray | None = None
    radial: RadialPotential | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Potentials:
    """Merged potential parameters of one or more files sharing a lattice constant.

    Attributes
    ----------
    lattice_constant_angstrom : float
        Cubic lattice constant a (Å).
    wigner_seitz_radius_bohr : float
        Sphere radius s = w of the parameters (bohr).
    species : dict[str, SpeciesPotential]
        Parameters per element symbol.
    sources : tuple[str, ...]
        Files read, in order.
    linearisation : str
        Linearisation of the parameters (``"fermi"`` or ``"band_centre"``).
    """

    lattice_constant_angstrom: float
    wigner_seitz_radius_bohr: float
    species: dict[str, SpeciesPotential]
    sources: tuple[str, ...] = field(default_factory=tuple)
    linearisation: str = "band_centre"

    @property
    def wigner_seitz_radius_angstrom(self) -> float:
        """Sphere radius w in Å."""
        return self.wigner_seitz_radius_bohr * BOHR_ANGSTROM

    def for_atoms(self, symbols: Sequence[str]) -> dict[str, np.ndarray]:
        """Per-atom stacked parameter arrays for ``tbmto.lmto.potential_functions.onsite_p``.

        Parameters
        ----------
        symbols : sequence of str
            Chemical symbols of the atoms.

        Returns
        -------
        dict
            ``C``, ``sqrt_delta``, ``gamma`` (natoms, 2, 3), ``xi`` (natoms, 3),
            ``moment_muB`` (natoms,) and the per-atom species ``index`` (natoms,) into
            ``names`` (the sorted species symbols).

        Raises
        ------
        ValueError
            If a symbol has no potential, listing the available species.
        """
        symbols = list(symbols)
        names = sorted(set(symbols))
        missing = [s for s in names if s not in self.species]
        if missing:
            raise ValueError(
                f"symbols {missing} have no potential parameters; available species: "
                f"{sorted(self.species)}"
            )
        index = {s: k for k, s in enumerate(names)}
        idx = np.array([index[s] for s in symbols], dtype=np.intp)
        table = [self.species[s] for s in names]

        def stack(attr: str) -> np.ndarray:
            return np.stack([getattr(sp, attr) for sp in table])[idx]

        return {
            "C": stack("C"),
            "sqrt_delta": stack("sqrt_delta"),
            "gamma": stack("gamma"),
            "xi": stack("xi"),
            "moment_muB": np.array([sp.moment_muB for sp in table], dtype=float)[idx],
            "index": idx,
            "names": names,
        }


def _require(d: Mapping, key: str, path: str, where: str = ""):
    if not isinstance(d, Mapping) or key not in d:
        raise ValueError(f"potentials file {path!r}: missing key {where + key!r}")
    return d[key]


def _spin_table(d: Mapping, key: str, path: str, where: str) -> np.ndarray:
    tab = _require(d, key, path, where)
    rows = []
    for s in _SPINS:
        row = _require(tab, s, path, f"{where}{key}.")
        arr = np.asarray(row, dtype=float)
        if arr.shape != (3,) or not np.all(np.isfinite(arr)):
            raise ValueError(f"potentials file {path!r}: {where}{key}.{s} must be 3 finite numbers (s, p, d)")
        rows.append(arr)
    return np.stack(rows)


def _radial(sp: Mapping, path: str, where: str, ef: float) -> RadialPotential | None:
    raw = _require(sp, "radial", path, where)
    if raw is None:
        return None
    w = where + "radial."
    n = int(_require(raw, "n_mesh", path, w))
    mesh = log_mesh(float(_require(raw, "sphere_radius_bohr", path, w)), n,
                    float(_require(raw, "r_min_bohr", path, w)))
    v = _require(raw, "V_Ry", path, w)
    vv = np.stack([np.asarray(_require(v, s_, path, w + "V_Ry."), dtype=float) for s_ in _SPINS])
    if vv.shape != (2, n) or not np.all(np.isfinite(vv)):
        raise ValueError(f"potentials file {path!r}: {w}V_Ry.up/down must be {n} finite numbers each")
    return RadialPotential(z=int(_require(raw, "z", path, w)),
                           core_electrons=float(_require(raw, "core_electrons", path, w)),
                           mesh=mesh, v=vv - ef)


def _read_one(path: str) -> tuple[float, float, dict[str, dict]]:
    data = read_json(path, "potentials file")
    fmt = _require(data, "format", path)
    if fmt in LEGACY_POTENTIALS_FORMATS:
        raise ValueError(
            f"potentials file {path!r} has the old format {fmt!r} without the self-consistent "
            f"spherical potentials V_σ(r); regenerate it with `tbmto scf` (format {POTENTIALS_FORMAT!r})")
    if fmt != POTENTIALS_FORMAT:
        raise ValueError(f"potentials file {path!r}: format must be {POTENTIALS_FORMAT!r}, got {fmt!r}")
    a = float(_require(data, "lattice_constant_angstrom", path))
    w = float(_require(data, "wigner_seitz_radius_bohr", path))
    ef = float(_require(data, "fermi_energy_Ry", path))
    if not (a > 0 and w > 0 and math.isfinite(ef)):
        raise ValueError(f"potentials file {path!r}: lattice constant and WS radius must be > 0, E_F finite")
    species_raw = _require(data, "species", path)
    if not isinstance(species_raw, Mapping) or not species_raw:
        raise ValueError(f"potentials file {path!r}: 'species' must be a non-empty object")
    species: dict[str, dict] = {}
    for name, sp in species_raw.items():
        where = f"species.{name}."
        C = _spin_table(sp, "C_Ry", path, where) - ef
        sd = _spin_table(sp, "sqrt_delta_Ry", path, where)
        gamma = _spin_table(sp, "gamma", path, where)
        xi = np.asarray(_require(sp, "xi_Ry", path, where), dtype=float)
        if xi.shape != (3,) or not np.all(np.isfinite(xi)):
            raise ValueError(f"potentials file {path!r}: {where}xi_Ry must be 3 finite numbers (s, p, d)")
        if np.any(sd <= 0):
            raise ValueError(f"potentials file {path!r}: {where}sqrt_delta_Ry must be > 0")
        charges = _spin_table(sp, "charges", path, where) if "charges" in sp else None
        radial = _radial(sp, path, where, ef)
        if radial is not None and abs(radial.mesh.r[-1] - w) > 1e-6:
            raise ValueError(f"potentials file {path!r}: {where}radial.sphere_radius_bohr "
                             f"{radial.mesh.r[-1]} differs from wigner_seitz_radius_bohr {w}")
        e_nu = None
        details = data.get("provenance", {}).get("species_details", {}).get(name, {})
        if "e_nu_Ry" in details:
            e_nu = _spin_table(details, "e_nu_Ry", path, f"provenance.species_details.{name}.") - ef
        species[str(name)] = dict(
            C=C, sqrt_delta=sd, gamma=gamma, xi=xi,
            moment_muB=float(_require(sp, "moment_muB", path, where)),
            concentration=float(_require(sp, "concentration", path, where)),
            source=path, charges=charges, radial=radial, e_nu=e_nu,
        )
    return a, w, species


def linearised(fields: dict, linearisation: str) -> dict:
    """Radial-function quantities of one species at its linearisation energies.

    Solves the scalar-relativistic radial equation of each spin and l at E_ν
    (:func:`tbmto.asa.parameters.potential_parameters`) and evaluates ξ_l^σ and ⟨φ|ξ|φ̇⟩
    there (:func:`tbmto.asa.parameters.spin_orbit_integrals`). ``"fermi"``: E_ν = E_F = 0, and
    C, Δ, γ are replaced by those at E_F and ``xi`` by the spin average ½(ξ↑ + ξ↓) used by the
    orthogonal SOC form. ``"band_centre"``: E_ν = the stored band centres; the stored C, Δ, γ,
    ξ are kept (bitwise the parameters of the self-consistency).

    Parameters
    ----------
    fields : dict
        Species fields as read from a file, with a ``radial`` :class:`RadialPotential` (and,
        for ``"band_centre"``, the stored ``e_nu``).
    linearisation : {"fermi", "band_centre"}

    Returns
    -------
    dict
        The same fields with xi_spin, xi_dot, e_nu and ``linearisation`` set (and, for
        ``"fermi"``, C, sqrt_delta, gamma, xi at E_F).
    """
    from tbmto.asa.parameters import potential_parameters, spin_orbit_integrals

    rad = fields["radial"]
    e_nu = np.zeros((2, 3)) if linearisation == "fermi" else fields["e_nu"]
    pp = potential_parameters(rad.mesh, rad.v, e_nu)
    xi_spin, xi_dot = spin_orbit_integrals(rad.mesh, rad.v, pp)
    out = dict(fields, xi_spin=xi_spin, xi_dot=xi_dot, e_nu=e_nu, linearisation=linearisation)
    if linearisation == "fermi":
        out.update(C=pp.C, sqrt_delta=pp.sqrt_delta, gamma=pp.gamma, xi=xi_spin.mean(axis=0))
    return out


def load(*paths: str | os.PathLike, linearisation: str = "fermi") -> Potentials:
    """Read and merge potential files, with the parameters linearised for transport.

    Every file's energies are shifted by −E_F of that file (E_F = 0 afterwards). Species of
    all files are merged; a species present in several files must have the same stored
    parameters (to 1e−10) and all files must share the lattice constant (to 1e−4 Å) and WS
    radius.

    Parameters
    ----------
    *paths : path-like
        One or more JSON files in the :data:`tbmto.io.POTENTIALS_FORMAT` format.
    linearisation : {"fermi", "band_centre"}
        ``"fermi"`` (default): parameters rebuilt at E_ν = E_F from the stored V_σ(r)
        (:func:`linearised`); ``"band_centre"``: the stored parameters (see the module
        docstring).

    Returns
    -------
    Potentials

    Raises
    ------
    ValueError
        No path, an unknown linearisation, a file in an old format (regenerate it with
        ``tbmto scf``), a missing key (named with its file), conflicting species or lattice
        constants (naming both files), or ``"fermi"`` for a parameter-only file.
    """
    if linearisation not in LINEARISATIONS:
        raise ValueError(f"linearisation must be one of {list(LINEARISATIONS)}, got {linearisation!r}")
    if not paths:
        raise ValueError("paths: at least one potentials file is required")
    lat: float | None = None
    wsr: float | None = None
    first = ""
    merged: dict[str, dict] = {}
    sources: list[str] = []
    for p in _flatten(paths):
        path = os.fspath(p)
        a, w, species = _read_one(path)
        if lat is None:
            lat, wsr, first = a, w, path
        else:
            if abs(a - lat) > 1e-4:
                raise ValueError(
                    f"lattice constants differ: {lat} Å in {first!r} vs {a} Å in {path!r}"
                )
            if abs(w - wsr) > 1e-4:
                raise ValueError(
                    f"Wigner-Seitz radii differ: {wsr} bohr in {first!r} vs {w} bohr in {path!r}"
                )
        for name, sp in species.items():
            old = merged.get(name)
            if old is not None and not _same_parameters(old, sp):
                raise ValueError(
                    f"species {name!r} is defined differently in {old['source']!r} and {path!r}"
                )
            if old is None:
                merged[name] = sp
        sources.append(path)
    out: dict[str, SpeciesPotential] = {}
    for name, sp in merged.items():
        if linearisation == "band_centre" and sp["radial"] is not None and sp["e_nu"] is not None:
            sp = linearised(sp, "band_centre")
        elif linearisation == "fermi":
            if sp["radial"] is None:
                raise ValueError(
                    f"potentials file {sp['source']!r}: species {name!r} has parameters only (no "
                    "spherical potential), so it cannot be linearised at E_F; use "
                    "linearisation='band_centre' (transport.linearisation: band_centre) or a file "
                    "from `tbmto scf`")
            sp = linearised(sp, "fermi")
        out[name] = SpeciesPotential(**sp)
    return Potentials(
        lattice_constant_angstrom=float(lat),
        wigner_seitz_radius_bohr=float(wsr),
        species=out,
        sources=tuple(sources),
        linearisation=linearisation,
    )


def _same_parameters(a: dict, b: dict, tol: float = 1e-10) -> bool:
    """True when the stored C, √Δ, γ, ξ and the moment of two species agree to ``tol``."""
    return (all(np.allclose(a[k], b[k], atol=tol, rtol=0) for k in ("C", "sqrt_delta", "gamma", "xi"))
            and abs(a["moment_muB"] - b["moment_muB"]) <= tol)


def _flatten(paths: Iterable) -> list:
    out = []
    for p in paths:
        if isinstance(p, (list, tuple)):
            out.extend(_flatten(p))
        else:
            out.append(p)
    return out
