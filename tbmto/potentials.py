"""Reader for the ASA potential-parameter files (format ``tbmto-potentials/1``).

The file format is fixed in ``docs/interfaces.md``. Parameters are the second-order
potential parameters of the orthogonal (γ) representation with s = w, per species, spin
(↑/↓ along the local magnetisation) and l = s, p, d:

    P^α_l(E) = (E − C_l) / [Δ_l + (γ_l − α_l)(E − C_l)]

(Andersen & Jepsen 1984; ``shared/reference/lmto-conventions.md``), plus the on-site SOC
parameters ξ_l. Energies in a file are absolute (electrostatic zero of the neutral sphere);
:func:`load` shifts C and all energies of a file by −E_F of that file, so that every species
refers to its own bulk Fermi level at E = 0 (bulk Fermi levels aligned, no interface dipole).
Δ, γ and ξ are unaffected by the shift.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FORMAT",
    "BOHR_ANGSTROM",
    "SpeciesPotential",
    "Potentials",
    "load",
    "fcc_wigner_seitz_radius",
]

FORMAT = "tbmto-potentials/1"
BOHR_ANGSTROM = 0.529177210903
"""1 bohr in Å (CODATA 2018)."""

_SPINS = ("up", "down")


def fcc_wigner_seitz_radius(lattice_constant: float) -> float:
    """Average Wigner–Seitz radius of fcc, w = a (3/(16π))^{1/3} (same unit as a)."""
    if not lattice_constant > 0:
        raise ValueError(f"lattice_constant must be > 0, got {lattice_constant!r}")
    return float(lattice_constant) * (3.0 / (16.0 * math.pi)) ** (1.0 / 3.0)


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
    """

    C: np.ndarray
    sqrt_delta: np.ndarray
    gamma: np.ndarray
    xi: np.ndarray
    moment_muB: float
    concentration: float
    source: str
    charges: np.ndarray | None = None

    def same_parameters(self, other: "SpeciesPotential", tol: float = 1e-10) -> bool:
        """True when C, √Δ, γ, ξ and the moment agree to ``tol``."""
        return (
            np.allclose(self.C, other.C, atol=tol, rtol=0)
            and np.allclose(self.sqrt_delta, other.sqrt_delta, atol=tol, rtol=0)
            and np.allclose(self.gamma, other.gamma, atol=tol, rtol=0)
            and np.allclose(self.xi, other.xi, atol=tol, rtol=0)
            and abs(self.moment_muB - other.moment_muB) <= tol
        )


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
    """

    lattice_constant_angstrom: float
    wigner_seitz_radius_bohr: float
    species: dict[str, SpeciesPotential]
    sources: tuple[str, ...] = field(default_factory=tuple)

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
            ``C``, ``sqrt_delta``, ``gamma`` (natoms, 2, 3), ``xi`` (natoms, 3) and
            ``moment_muB`` (natoms,).

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


def _read_one(path: str) -> tuple[float, float, dict[str, SpeciesPotential]]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"potentials file {path!r} is not valid JSON: {exc}") from None
    fmt = _require(data, "format", path)
    if fmt != FORMAT:
        raise ValueError(f"potentials file {path!r}: format must be {FORMAT!r}, got {fmt!r}")
    a = float(_require(data, "lattice_constant_angstrom", path))
    w = float(_require(data, "wigner_seitz_radius_bohr", path))
    ef = float(_require(data, "fermi_energy_Ry", path))
    if not (a > 0 and w > 0 and math.isfinite(ef)):
        raise ValueError(f"potentials file {path!r}: lattice constant and WS radius must be > 0, E_F finite")
    species_raw = _require(data, "species", path)
    if not isinstance(species_raw, Mapping) or not species_raw:
        raise ValueError(f"potentials file {path!r}: 'species' must be a non-empty object")
    species: dict[str, SpeciesPotential] = {}
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
        species[str(name)] = SpeciesPotential(
            C=C,
            sqrt_delta=sd,
            gamma=gamma,
            xi=xi,
            moment_muB=float(_require(sp, "moment_muB", path, where)),
            concentration=float(_require(sp, "concentration", path, where)),
            source=path,
            charges=charges,
        )
    return a, w, species


def load(*paths: str | os.PathLike) -> Potentials:
    """Read and merge potential files.

    Every file's energies are shifted by −E_F of that file (E_F = 0 afterwards). Species of
    all files are merged; a species present in several files must have the same parameters
    (to 1e−10) and all files must share the lattice constant (to 1e−4 Å) and WS radius.

    Parameters
    ----------
    *paths : path-like
        One or more JSON files in the ``tbmto-potentials/1`` format.

    Returns
    -------
    Potentials

    Raises
    ------
    ValueError
        No path, a missing key (named with its file), conflicting species or lattice
        constants (naming both files).
    """
    if not paths:
        raise ValueError("paths: at least one potentials file is required")
    lat: float | None = None
    wsr: float | None = None
    first = ""
    merged: dict[str, SpeciesPotential] = {}
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
            if old is not None and not old.same_parameters(sp):
                raise ValueError(
                    f"species {name!r} is defined differently in {old.source!r} and {path!r}"
                )
            if old is None:
                merged[name] = sp
        sources.append(path)
    return Potentials(
        lattice_constant_angstrom=float(lat),
        wigner_seitz_radius_bohr=float(wsr),
        species=merged,
        sources=tuple(sources),
    )


def _flatten(paths: Iterable) -> list:
    out = []
    for p in paths:
        if isinstance(p, (list, tuple)):
            out.extend(_flatten(p))
        else:
            out.append(p)
    return out
