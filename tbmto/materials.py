"""Element data and lattice-constant rules for the structures and potentials.

All lengths in Å, all volumes in Å^3.

Measured lattice constants
--------------------------
:data:`ELEMENT_DATA` holds, for the transition metals and a few neighbours used in the stacks,
the room-temperature ground-state structure and lattice parameters, and from them the volume per
atom Ω (a³/4 fcc, a³/2 bcc, (√3/4) a² c hcp, cell volume / atoms per cell for a complex cell).
Each entry carries its own citation in :attr:`ElementData.source`. By group:

* The cubic and hcp metals Al, Ti, V, Fe, Co, Ni, Cu, Zr, Nb, Mo, Ru, Rh, Pd, Ag, Hf, Ta, W, Re,
  Os, Ir, Pt, Au (four decimals; Re to three): room-temperature lattice parameters as compiled in
  H. W. King, "Crystal structures and lattice parameters of allotropes of the metallic elements",
  *CRC Handbook of Chemistry and Physics* (section 12), which collects the precision
  measurements of W. B. Pearson, *A Handbook of Lattice Spacings and Structures of Metals and
  Alloys*, vols. 1–2 (Pergamon, 1958, 1967).
* Cr: a = 2.8845 Å at 20 °C, B. D. Cullity and S. R. Stock, *Elements of X-Ray Diffraction*,
  3rd ed. (Prentice Hall, 2001), Appendix 13, Table A13-1.
* α-Mn (cI58, 58 atoms in the cubic cell): a = 8.9125 Å, same CRC table.

Rounded to three figures they agree with the tables of C. Kittel, *Introduction to Solid State
Physics*, 8th ed. (Wiley, 2005), Ch. 1 (crystal structures of the elements), and of N. W.
Ashcroft and N. D. Mermin, *Solid State Physics* (Holt, Rinehart and Winston, 1976), Tables 4.3
(fcc), 4.4 (bcc) and 4.5 (hcp); the tests check the table against three-figure values.

Lattice constant of an element in another lattice
-------------------------------------------------
:func:`element_lattice_constant` returns the measured cubic a when the ground state is the
requested lattice. Otherwise (fcc Fe, bcc Ni, fcc Co, fcc Mn, ...) it returns the a of the
requested lattice that keeps the measured ground-state volume per atom, a = (n Ω)^{1/3} with
n = 4 (fcc) or 2 (bcc). Volume is what the atomic-sphere approximation fixes (the Wigner–Seitz
radius, :func:`wigner_seitz_radius`), so an element has one Wigner–Seitz radius whatever the
lattice: e.g. fcc Fe from the bcc volume is a = (2 · 2.8665³)^{1/3} = 3.6116 Å.

Vegard's law
------------
:func:`vegard_lattice_constant` takes a composition {element: fraction} and returns
a = Σ_i c_i a_i over those element values (see its docstring for permalloy).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

ATOMIC_NUMBER: dict[str, int] = {
    "H": 1, "He": 2, "Li": 3, "Be": 4, "B": 5, "C": 6, "N": 7, "O": 8, "F": 9, "Ne": 10,
    "Na": 11, "Mg": 12, "Al": 13, "Si": 14, "P": 15, "S": 16, "Cl": 17, "Ar": 18,
    "K": 19, "Ca": 20, "Sc": 21, "Ti": 22, "V": 23, "Cr": 24, "Mn": 25, "Fe": 26, "Co": 27,
    "Ni": 28, "Cu": 29, "Zn": 30, "Ga": 31, "Ge": 32, "As": 33, "Se": 34, "Br": 35, "Kr": 36,
    "Rb": 37, "Sr": 38, "Y": 39, "Zr": 40, "Nb": 41, "Mo": 42, "Tc": 43, "Ru": 44, "Rh": 45,
    "Pd": 46, "Ag": 47, "Cd": 48, "In": 49, "Sn": 50, "Sb": 51, "Te": 52, "I": 53, "Xe": 54,
    "Cs": 55, "Ba": 56, "La": 57, "Hf": 72, "Ta": 73, "W": 74, "Re": 75, "Os": 76, "Ir": 77,
    "Pt": 78, "Au": 79, "Hg": 80,
}


LATTICES: tuple[str, ...] = ("fcc", "bcc")
"""Cubic lattices of the structures and the ASA self-consistency."""

_ATOMS_PER_CUBE = {"fcc": 4, "bcc": 2}


def wigner_seitz_radius(lattice_constant: float, lattice: str = "fcc") -> float:
    """Average Wigner–Seitz radius w = (3Ω/4π)^{1/3} of a monatomic cubic lattice (unit of a).

    Ω = a³/4 for fcc (w = a (3/16π)^{1/3}) and a³/2 for bcc (w = a (3/8π)^{1/3}): the atomic
    volume shared by every atom of the ASA (Andersen & Jepsen, PRL 53, 2571 (1984)).

    Raises
    ------
    ValueError
        For a non-positive lattice constant or an unknown lattice.
    """
    if lattice not in _ATOMS_PER_CUBE:
        raise ValueError(f"lattice must be one of {list(LATTICES)}, got {lattice!r}")
    if not (isinstance(lattice_constant, (int, float)) or hasattr(lattice_constant, "__float__")) \
            or not float(lattice_constant) > 0:
        raise ValueError(f"lattice_constant must be > 0, got {lattice_constant!r}")
    omega = float(lattice_constant) ** 3 / _ATOMS_PER_CUBE[lattice]
    return (3.0 * omega / (4.0 * math.pi)) ** (1.0 / 3.0)


def atomic_number(symbol: str) -> int:
    """Atomic number of an element symbol; ValueError listing the known symbols otherwise."""
    try:
        return ATOMIC_NUMBER[symbol]
    except KeyError:
        raise ValueError(
            f"unknown element {symbol!r}; known elements: {', '.join(ATOMIC_NUMBER)}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Measured element data
# ---------------------------------------------------------------------------------------------

GROUND_STATES: tuple[str, ...] = ("fcc", "bcc", "hcp", "complex")
"""Ground-state structure labels of :class:`ElementData`."""

_HCP_VOLUME_FACTOR = math.sqrt(3.0) / 4.0
"""Volume per atom of hcp in units of a² c: (√3/2) a² c per 2-atom cell."""


@dataclass(frozen=True)
class ElementData:
    """Room-temperature ground-state structure and size of an elemental metal.

    Attributes
    ----------
    symbol : str
        Element symbol, e.g. ``"Fe"``.
    ground_state : str
        Structure at room temperature and ambient pressure: ``"fcc"``, ``"bcc"``, ``"hcp"`` or
        ``"complex"`` (e.g. α-Mn, cI58).
    lattice_constant_angstrom : float or None
        Cubic lattice constant a (Å) when `ground_state` is ``"fcc"`` or ``"bcc"``; None
        otherwise.
    hcp_a_angstrom : float or None
        In-plane hcp lattice parameter a (Å) when `ground_state` is ``"hcp"``; None otherwise.
    hcp_c_angstrom : float or None
        hcp lattice parameter c (Å) when `ground_state` is ``"hcp"``; None otherwise.
    atomic_volume_angstrom3 : float
        Volume per atom Ω (Å^3) of the ground state: a³/4 (fcc), a³/2 (bcc), (√3/4) a² c (hcp),
        cell volume / atoms per cell (complex).
    source : str
        Citation of the measured numbers (book or handbook and table).

    Raises
    ------
    ValueError
        If the fields are inconsistent: unknown `ground_state`, missing or non-positive
        lattice parameters for the ground state, parameters given that do not belong to it, a
        volume that does not match the cubic or hcp parameters (relative 1e-9), or an empty
        source.
    """

    symbol: str
    ground_state: str
    lattice_constant_angstrom: float | None
    atomic_volume_angstrom3: float
    source: str
    hcp_a_angstrom: float | None = None
    hcp_c_angstrom: float | None = None

    def __post_init__(self) -> None:
        name = f"ElementData({self.symbol!r})"
        if self.ground_state not in GROUND_STATES:
            raise ValueError(
                f"{name}: ground_state must be one of {list(GROUND_STATES)}, "
                f"got {self.ground_state!r}"
            )
        if not (isinstance(self.source, str) and self.source.strip()):
            raise ValueError(f"{name}: source must be a non-empty citation")
        omega = self.atomic_volume_angstrom3
        if not (math.isfinite(omega) and omega > 0):
            raise ValueError(f"{name}: atomic_volume_angstrom3 must be > 0, got {omega!r}")
        cubic = self.ground_state in _ATOMS_PER_CUBE
        hcp = self.ground_state == "hcp"
        a = self.lattice_constant_angstrom
        if cubic != (a is not None):
            raise ValueError(
                f"{name}: lattice_constant_angstrom is the cubic a of an fcc or bcc ground "
                f"state only (ground_state {self.ground_state!r}, got {a!r})"
            )
        if hcp != (self.hcp_a_angstrom is not None) or hcp != (self.hcp_c_angstrom is not None):
            raise ValueError(
                f"{name}: hcp_a_angstrom and hcp_c_angstrom are given for an hcp ground state "
                f"only (ground_state {self.ground_state!r})"
            )
        if cubic:
            expected = _cubic_volume(a, self.ground_state, name)
        elif hcp:
            expected = _hcp_volume(self.hcp_a_angstrom, self.hcp_c_angstrom, name)
        else:
            expected = omega
        if abs(omega - expected) > 1e-9 * expected:
            raise ValueError(
                f"{name}: atomic_volume_angstrom3 = {omega!r} does not match the "
                f"{self.ground_state} lattice parameters ({expected!r})"
            )


def _positive_length(value: float | None, what: str, name: str) -> float:
    if value is None or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: {what} must be a positive length in Å, got {value!r}")
    return float(value)


def _cubic_volume(a: float | None, lattice: str, name: str) -> float:
    a = _positive_length(a, "lattice_constant_angstrom", name)
    return a ** 3 / _ATOMS_PER_CUBE[lattice]


def _hcp_volume(a: float | None, c: float | None, name: str) -> float:
    a = _positive_length(a, "hcp_a_angstrom", name)
    c = _positive_length(c, "hcp_c_angstrom", name)
    return _HCP_VOLUME_FACTOR * a * a * c


def _cubic(symbol: str, lattice: str, a: float, source: str) -> ElementData:
    """Entry of an fcc or bcc metal from its measured cubic a (Å)."""
    return ElementData(
        symbol=symbol, ground_state=lattice, lattice_constant_angstrom=a,
        atomic_volume_angstrom3=_cubic_volume(a, lattice, symbol), source=source,
    )


def _hcp(symbol: str, a: float, c: float, source: str) -> ElementData:
    """Entry of an hcp metal from its measured a and c (Å)."""
    return ElementData(
        symbol=symbol, ground_state="hcp", lattice_constant_angstrom=None,
        atomic_volume_angstrom3=_hcp_volume(a, c, symbol), source=source,
        hcp_a_angstrom=a, hcp_c_angstrom=c,
    )


def _complex(symbol: str, cell_volume: float, atoms_per_cell: int, source: str) -> ElementData:
    """Entry of a metal with a complex cell: volume per atom = cell volume (Å^3) / atoms."""
    return ElementData(
        symbol=symbol, ground_state="complex", lattice_constant_angstrom=None,
        atomic_volume_angstrom3=cell_volume / atoms_per_cell, source=source,
    )


_CRC = (
    "CRC Handbook of Chemistry and Physics, 'Crystal structures and lattice parameters of "
    "allotropes of the metallic elements' (H. W. King), room temperature; after W. B. Pearson, "
    "A Handbook of Lattice Spacings and Structures of Metals and Alloys (1958, 1967)"
)
_CULLITY = (
    "B. D. Cullity and S. R. Stock, Elements of X-Ray Diffraction, 3rd ed. (2001), "
    "Appendix 13, Table A13-1, 20 °C"
)

_ALPHA_MN_A = 8.9125
"""Cubic lattice constant of α-Mn (cI58, I-43m, 58 atoms per cell), Å."""

ELEMENT_DATA: dict[str, ElementData] = {
    entry.symbol: entry
    for entry in (
        _cubic("Al", "fcc", 4.0495, _CRC),
        _hcp("Ti", 2.9506, 4.6835, _CRC),
        _cubic("V", "bcc", 3.0240, _CRC),
        _cubic("Cr", "bcc", 2.8845, _CULLITY),
        _complex("Mn", _ALPHA_MN_A ** 3, 58, _CRC + f"; alpha-Mn cI58, a = {_ALPHA_MN_A} Å, "
                 "58 atoms per cubic cell"),
        _cubic("Fe", "bcc", 2.8665, _CRC),
        _hcp("Co", 2.5071, 4.0695, _CRC),
        _cubic("Ni", "fcc", 3.5240, _CRC),
        _cubic("Cu", "fcc", 3.6149, _CRC),
        _hcp("Zr", 3.2316, 5.1475, _CRC),
        _cubic("Nb", "bcc", 3.3004, _CRC),
        _cubic("Mo", "bcc", 3.1470, _CRC),
        _hcp("Ru", 2.7058, 4.2816, _CRC),
        _cubic("Rh", "fcc", 3.8034, _CRC),
        _cubic("Pd", "fcc", 3.8907, _CRC),
        _cubic("Ag", "fcc", 4.0857, _CRC),
        _hcp("Hf", 3.1964, 5.0511, _CRC),
        _cubic("Ta", "bcc", 3.3030, _CRC),
        _cubic("W", "bcc", 3.1652, _CRC),
        _hcp("Re", 2.761, 4.458, _CRC),
        _hcp("Os", 2.7344, 4.3173, _CRC),
        _cubic("Ir", "fcc", 3.8392, _CRC),
        _cubic("Pt", "fcc", 3.9236, _CRC),
        _cubic("Au", "fcc", 4.0783, _CRC),
    )
}
"""Measured room-temperature ground state and size of the elements, keyed by symbol."""


def _element_entry(element: str) -> ElementData:
    """Table entry of an element; ValueError naming it and listing the elements with data."""
    try:
        return ELEMENT_DATA[element]
    except (KeyError, TypeError):
        pass
    known = isinstance(element, str) and element in ATOMIC_NUMBER
    kind = "element" if known else "unknown element symbol"
    raise ValueError(
        f"no lattice-constant data for {kind} {element!r}; give the lattice constant in Å "
        f"explicitly (elements with data: {', '.join(ELEMENT_DATA)})"
    )


def _check_lattice(lattice: str) -> None:
    if not isinstance(lattice, str) or lattice not in _ATOMS_PER_CUBE:
        raise ValueError(f"lattice must be one of {list(LATTICES)}, got {lattice!r}")


def element_lattice_constant(element: str, lattice: str = "fcc") -> float:
    """Cubic lattice constant of an element in an fcc or bcc lattice.

    The measured a when the element's ground state is `lattice`; otherwise the a of `lattice`
    with the measured ground-state volume per atom Ω, a = (n Ω)^{1/3}, n = 4 (fcc) or 2 (bcc).
    Both lattices of one element therefore share one Wigner–Seitz radius.

    Parameters
    ----------
    element : str
        Element symbol, a key of :data:`ELEMENT_DATA`.
    lattice : str, optional
        ``"fcc"`` (default) or ``"bcc"`` (:data:`LATTICES`).

    Returns
    -------
    float
        Lattice constant in Å. E.g. Ni fcc 3.5240 (measured); Fe fcc 3.6116 (from the bcc
        volume 11.777 Å^3); Co fcc 3.5385 (from the hcp volume 11.076 Å^3).

    Raises
    ------
    ValueError
        For an element without an entry (the message names it, asks for the lattice constant
        in Å explicitly and lists the elements with data) or a lattice not in
        :data:`LATTICES`.
    """
    entry = _element_entry(element)
    _check_lattice(lattice)
    if entry.ground_state == lattice:
        return float(entry.lattice_constant_angstrom)
    return (_ATOMS_PER_CUBE[lattice] * entry.atomic_volume_angstrom3) ** (1.0 / 3.0)


def lattice_constant_note(element: str, lattice: str) -> str:
    """One line saying where :func:`element_lattice_constant` ``(element, lattice)`` comes from.

    Parameters
    ----------
    element : str
        Element symbol, a key of :data:`ELEMENT_DATA`.
    lattice : str
        ``"fcc"`` or ``"bcc"``.

    Returns
    -------
    str
        ``"Ni fcc a = 3.5240 Å: measured fcc a, <source>"`` when the ground state is `lattice`,
        else e.g. ``"Fe fcc a = 3.6116 Å: from the bcc atomic volume Ω = 11.7768 Å^3 (a = 2.8665
        Å), <source>"``.

    Raises
    ------
    ValueError
        As :func:`element_lattice_constant`.
    """
    entry = _element_entry(element)
    a = element_lattice_constant(element, lattice)
    head = f"{element} {lattice} a = {a:.4f} Å: "
    if entry.ground_state == lattice:
        return head + f"measured {lattice} a, {entry.source}"
    if entry.ground_state in _ATOMS_PER_CUBE:
        measured = f" (a = {entry.lattice_constant_angstrom:.4f} Å)"
    elif entry.ground_state == "hcp":
        measured = f" (a = {entry.hcp_a_angstrom:.4f} Å, c = {entry.hcp_c_angstrom:.4f} Å)"
    else:
        measured = ""
    return (
        head + f"from the {entry.ground_state} atomic volume "
        f"Ω = {entry.atomic_volume_angstrom3:.4f} Å^3{measured}, {entry.source}"
    )


def vegard_lattice_constant(composition: Mapping[str, float], lattice: str = "fcc") -> float:
    """Lattice constant of a random cubic alloy by Vegard's law.

    a = Σ_i c_i a_i, with c_i the atomic fractions (Σ_i c_i = 1) and a_i the element values of
    :func:`element_lattice_constant` in `lattice` (measured a, or the a with the element's
    ground-state volume per atom).

    Permalloy: a(Ni80Fe20) = 0.8 a_Ni + 0.2 a_Fe(fcc) = 0.8 · 3.5240 + 0.2 · 3.6116 = 3.5415 Å,
    with fcc Fe taken at the bcc Fe volume. The measured value is 3.548 Å (R. M. Bozorth,
    *Ferromagnetism*, Van Nostrand, 1951): the law is 0.0065 Å (0.18 %) short, the known positive
    deviation of fcc Ni–Fe from Vegard's law (high-spin fcc Fe occupies more than the bcc
    volume; an fcc Fe end point of (3.548 − 0.8 · 3.5240) / 0.2 = 3.644 Å would reproduce the
    measured value). Where the measured alloy value matters, pass it explicitly.

    Parameters
    ----------
    composition : Mapping[str, float]
        Element symbol → atomic fraction. Non-empty; every fraction a finite real number ≥ 0
        (a zero fraction contributes nothing, but its element must still have data); the
        fractions must sum to 1 within 1e-9.
    lattice : str, optional
        ``"fcc"`` (default) or ``"bcc"``.

    Returns
    -------
    float
        Lattice constant in Å.

    Raises
    ------
    ValueError
        For an empty composition, a fraction that is not a finite number ≥ 0 (the message
        names the element and value), fractions not summing to 1 (the message gives the sum),
        an element without data, or an unknown lattice.
    """
    if not isinstance(composition, Mapping):
        raise ValueError(
            f"composition must be a mapping element -> fraction, got {type(composition).__name__}"
        )
    if not composition:
        raise ValueError("composition must name at least one element, got an empty mapping")
    _check_lattice(lattice)
    fractions: dict[str, float] = {}
    for element, fraction in composition.items():
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
            raise ValueError(
                f"fraction of {element!r} must be a real number, got {fraction!r}"
            )
        value = float(fraction)
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"fraction of {element!r} must be a finite number >= 0, got {fraction!r}"
            )
        fractions[element] = value
    total = math.fsum(fractions.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(
            f"fractions must sum to 1 (within 1e-9), got {total:.12g} for "
            + ", ".join(f"{element}: {value!r}" for element, value in fractions.items())
        )
    return math.fsum(
        value * element_lattice_constant(element, lattice) for element, value in fractions.items()
    )
