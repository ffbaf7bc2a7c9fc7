"""Element data and lattice-constant rules for the structures and potentials.

All lengths in Å.

Vegard's law for fcc Ni(1−x)Fe(x)
---------------------------------
a(x) = (1 − x) a_Ni + x a_Fe with a_Ni = 3.524 Å (fcc Ni, room temperature) and a fictitious fcc
Fe end point a_Fe chosen so that the rule reproduces the measured lattice constant of permalloy,
a(Ni80Fe20) = 3.548 Å (Bozorth, *Ferromagnetism*, 1951; the usual Py value): a_Fe =
(3.548 − 0.8 · 3.524) / 0.2 = 3.644 Å. This sits inside the range of γ-Fe values extrapolated to
low temperature from Fe-rich fcc alloys (≈ 3.59–3.65 Å) and keeps fcc Fe on the high-spin side of
the LSDA moment collapse, as in the seed's fcc-for-all-x study.
"""

from __future__ import annotations

import math

A_NI_FCC: float = 3.524
"""fcc Ni lattice constant (Å)."""

A_PY_MEASURED: float = 3.548
"""Measured lattice constant of Ni80Fe20 (Å) used to fix the fcc Fe end point."""

A_FE_FCC: float = (A_PY_MEASURED - 0.8 * A_NI_FCC) / 0.2
"""Vegard end point for fcc Fe (Å), = 3.644 Å; see the module docstring."""

A_CU_FCC: float = 3.614
"""fcc Cu lattice constant (Å)."""

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


def vegard_lattice_constant(x_fe: float) -> float:
    """fcc Ni(1−x)Fe(x) lattice constant by Vegard's law.

    Parameters
    ----------
    x_fe : float
        Fe concentration, 0 ≤ x ≤ 1.

    Returns
    -------
    float
        Lattice constant in Å: (1 − x)·3.524 + x·3.644.
    """
    if not 0.0 <= x_fe <= 1.0:
        raise ValueError(f"x_fe must lie in [0, 1], got {x_fe!r}")
    return (1.0 - x_fe) * A_NI_FCC + x_fe * A_FE_FCC


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
