"""Compositions of random substitutional alloys: validation, labels, exact site counts.

A composition is an ordered mapping element symbol → fraction (fractions ≥ 0 summing to 1
within :data:`SUM_TOL`); species with a zero fraction are dropped, so ``{"Ni": 1.0, "Fe": 0.0}``
is the element Ni. The same rules serve the self-consistent potentials
(:func:`tbmto.asa.scf`), the disordered structures (:func:`tbmto.structure.build_stack`) and the
command line (``--composition Ni=0.8,Fe=0.2``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tbmto.materials import atomic_number

__all__ = ["SUM_TOL", "check_composition", "parse_composition", "composition_label",
           "species_counts"]

SUM_TOL: float = 1e-9
"""Largest |Σ c − 1| accepted for the fractions of a composition."""


def check_composition(composition: str | Mapping[str, float], key: str = "composition"
                      ) -> dict[str, float]:
    """Validated composition {element: fraction} with the zero fractions dropped.

    Parameters
    ----------
    composition : str or mapping
        An element symbol (the pure element) or {element: fraction}.
    key : str
        Name of the argument or config key, used in the error messages.

    Returns
    -------
    dict
        {element: fraction > 0} in the given order, fractions summing to 1 within
        :data:`SUM_TOL`.

    Raises
    ------
    ValueError
        Naming ``key`` and the bad entry: not a mapping, an unknown element, a fraction that is
        not a finite number in [0, 1], fractions not summing to 1, or no species left.
    """
    if isinstance(composition, str):
        atomic_number(composition)
        return {composition: 1.0}
    if not isinstance(composition, Mapping) or not composition:
        raise ValueError(f"{key} must be an element symbol or a non-empty mapping element -> "
                         f"fraction, got {composition!r}")
    out: dict[str, float] = {}
    for el, c in composition.items():
        try:
            atomic_number(el)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(float(c)):
            raise ValueError(f"{key}: the fraction of {el} must be a finite number, got {c!r}")
        c = float(c)
        if not 0.0 <= c <= 1.0:
            raise ValueError(f"{key}: the fraction of {el} must lie in [0, 1], got {c!r}")
        if c > 0.0:
            out[str(el)] = c
    total = sum(float(c) for c in composition.values())
    if abs(total - 1.0) > SUM_TOL:
        raise ValueError(f"{key}: the fractions must sum to 1 (within {SUM_TOL:g}), got "
                         f"{total!r} for {dict(composition)!r}")
    if not out:
        raise ValueError(f"{key} has no species with a positive fraction: {dict(composition)!r}")
    return out


def parse_composition(text: str, key: str = "--composition") -> dict[str, float]:
    """Parse ``"Cu"`` or ``"Ni=0.8,Fe=0.2"`` into a validated composition
    (:func:`check_composition`)."""
    text = text.strip()
    if "=" not in text:
        return check_composition(text, key)
    comp: dict[str, float] = {}
    for item in text.split(","):
        if "=" not in item:
            raise ValueError(f"{key}: expected ELEMENT or ELEMENT=FRACTION[,ELEMENT=FRACTION...] "
                             f"(e.g. Ni=0.8,Fe=0.2), got {text!r}")
        el, val = (s.strip() for s in item.split("=", 1))
        if el in comp:
            raise ValueError(f"{key}: element {el} given twice in {text!r}")
        try:
            comp[el] = float(val)
        except ValueError:
            raise ValueError(f"{key}: the fraction of {el} must be a number, got {val!r}") from None
    return check_composition(comp, key)


def composition_label(composition: Mapping[str, float]) -> str:
    """Chemical label: the element for a pure metal, else element + fraction in the given order
    with at most 4 decimals, e.g. ``Fe0.75Co0.25``, ``Ni0.8Fe0.2``."""
    comp = check_composition(composition)
    if len(comp) == 1:
        return next(iter(comp))
    return "".join(f"{el}{(f'{c:.4f}').rstrip('0').rstrip('.')}" for el, c in comp.items())


def species_counts(composition: Mapping[str, float], n_sites: int) -> dict[str, int]:
    """Exact species counts on ``n_sites`` sites: floor(c·N + ½) of every species but the
    majority (largest fraction; ties broken by symbol), the majority on the remaining sites.

    Raises
    ------
    ValueError
        If the minority counts exceed ``n_sites``.
    """
    comp = check_composition(composition)
    order = sorted(comp, key=lambda el: (-comp[el], el))
    counts = {el: int(math.floor(comp[el] * n_sites + 0.5)) for el in order[1:]}
    rest = n_sites - sum(counts.values())
    if rest < 0:
        raise ValueError(f"composition {comp!r} needs {n_sites - rest} minority atoms on "
                         f"{n_sites} sites")
    counts[order[0]] = rest
    return {el: counts[el] for el in comp}
