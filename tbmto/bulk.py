"""Bulk secular matrix of a one-atom cubic crystal and its Fermi-surface crossings.

For a bulk crystal the MTO secular matrix at energy E is K(k) = P^α(E) − S^α(k) ⊗ 1₂
(Andersen & Jepsen, PRL 53, 2571 (1984)), Hermitian for real E; the bands cross E where
det K(k) = 0, i.e. where an eigenvalue of K(k) passes through zero. Along a straight line in
k the number of negative eigenvalues of K changes by one at every such crossing (the poles of
P^α are k independent), so the Fermi-surface crossings along a line are found by counting
negative eigenvalues on a fine grid and bisecting every change. With the screened SOC form the
first-order terms (P^α − S^α) X + X† (P^α − S^α) − A enter K as in the layered code
(:func:`tbmto.layers.LayeredSystem.screened_soc_blocks`).

This is the bulk check of the on-site spin–orbit forms of :mod:`tbmto.onsite`: a form whose
on-site block is close to the exact single-site solution puts the Fermi surface where the
exact form does. k in units of 2π/a.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tbmto.lmto.structure_constants import SCREENING_ALPHA, bloch_sum, bulk_pairs
from tbmto.onsite import onsite_terms
from tbmto.potentials import BOHR_ANGSTROM, Potentials

__all__ = ["LINES", "bulk_cell", "BulkSecular", "fermi_crossings", "Crossing"]

LINES = {
    "fcc": {"G-X": (0.0, 0.0, 1.0), "G-L": (0.5, 0.5, 0.5), "G-K": (0.75, 0.75, 0.0)},
    "bcc": {"G-H": (0.0, 0.0, 1.0), "G-N": (0.5, 0.5, 0.0), "G-P": (0.5, 0.5, 0.5)},
}
"""High-symmetry lines from Γ to the given end points (units of 2π/a, Cartesian)."""


def bulk_cell(lattice: str, a: float) -> np.ndarray:
    """Primitive fcc or bcc lattice vectors (rows, Å) of the cubic lattice constant a (Å)."""
    if lattice == "fcc":
        return 0.5 * a * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
    if lattice == "bcc":
        return 0.5 * a * np.array([[-1.0, 1, 1], [1, -1, 1], [1, 1, -1]])
    raise ValueError(f"lattice must be 'fcc' or 'bcc', got {lattice!r}")


class BulkSecular:
    """K(k) = P^α(E) − S^α(k) ⊗ 1₂ (plus the screened-form terms) of a one-atom crystal.

    The on-site blocks (:func:`tbmto.onsite.onsite_terms`) and the real-space S^α pairs
    (:func:`tbmto.lmto.structure_constants.bulk_pairs`) are built once; :meth:`__call__`
    Bloch-sums for a batch of k.

    Parameters
    ----------
    potentials : Potentials
        Holding ``element`` at the crystal's lattice constant.
    element : str
        Species of the crystal.
    lattice : {"fcc", "bcc"}
        Cubic lattice (one atom per primitive cell).
    soc, soc_form, m, energy
        As in :func:`tbmto.onsite.onsite_terms` (energy relative to E_F, Ry; m unit vector).
    cutoff : float, optional
        S^α pair range (Å); default of :func:`~tbmto.lmto.structure_constants.bulk_pairs`.
    """

    def __init__(self, potentials: Potentials, element: str, lattice: str, soc: bool = True,
                 soc_form: str = "orthogonal", m=(0.0, 0.0, 1.0), energy: float = 0.0,
                 cutoff: float | None = None):
        self.a = potentials.lattice_constant_angstrom
        w = potentials.wigner_seitz_radius_bohr * BOHR_ANGSTROM
        self.cell = bulk_cell(lattice, self.a)
        self.pairs = bulk_pairs(self.cell, np.zeros((1, 3)), w, cutoff=cutoff)
        mm = np.asarray(m, float)[None, :]
        t = onsite_terms(potentials, [element], mm / np.linalg.norm(mm), energy, soc=soc,
                         soc_form=soc_form, alpha=SCREENING_ALPHA)
        self.p = t.p[0]
        self.x = None if t.x is None else t.x[0]
        self.a_soc = None if t.a is None else t.a[0]

    def __call__(self, kpoints: np.ndarray) -> np.ndarray:
        """Hermitian K(k) (nk, 18, 18), index 9σ + L, for Cartesian k in units of 2π/a."""
        k = np.atleast_2d(np.asarray(kpoints, float)) * (2.0 * np.pi / self.a)
        s9 = bloch_sum(self.pairs, self.cell, k, 1)
        kmat = np.zeros((len(k), 18, 18), complex)
        kmat[:, :9, :9] = -s9
        kmat[:, 9:, 9:] = -s9
        kmat += self.p[None]
        if self.x is not None:
            x = self.x[None]
            kmat = kmat + kmat @ x + x.conj().transpose(0, 2, 1) @ kmat - self.a_soc[None]
        return 0.5 * (kmat + kmat.conj().transpose(0, 2, 1))


@dataclass(frozen=True)
class Crossing:
    """One Fermi-surface crossing along a line: position |k| (2π/a) and the change of the
    number of negative eigenvalues of K (+1 or −1) when going outwards."""

    k: float
    sign: int


def _n_negative(kmat: np.ndarray) -> np.ndarray:
    return np.sum(np.linalg.eigvalsh(kmat) < 0.0, axis=-1)


def fermi_crossings(secular: BulkSecular, end, n_grid: int = 400,
                    tol: float = 1e-7) -> list[Crossing]:
    """Crossings det K(k) = 0 along the line from Γ to ``end`` (2π/a), sorted by |k|.

    The number of negative eigenvalues of K is counted on ``n_grid`` points of the open
    segment; every change is bisected to ``tol`` (2π/a). Crossings closer than the grid step
    that cancel in the count are missed: refine ``n_grid`` until the list is stable.

    Parameters
    ----------
    secular : BulkSecular
        The crystal's K(k).
    end : 3-vector
        End point of the line (2π/a, Cartesian).
    n_grid : int
        Points of the coarse count.
    tol : float
        Bisection tolerance (2π/a).

    Returns
    -------
    list of Crossing
    """
    end = np.asarray(end, float)
    length = float(np.linalg.norm(end))
    ts = (np.arange(n_grid) + 0.5) / n_grid

    def count(t):
        return _n_negative(secular(np.atleast_1d(t)[:, None] * end[None, :]))

    nneg = count(ts)
    out = []
    for i in np.flatnonzero(np.diff(nneg)):
        lo, hi = ts[i], ts[i + 1]
        n_lo = nneg[i]
        while (hi - lo) * length > tol:
            mid = 0.5 * (lo + hi)
            if count(mid)[0] == n_lo:
                lo = mid
            else:
                hi = mid
        step = int(nneg[i + 1] - nneg[i])
        for _ in range(abs(step)):
            out.append(Crossing(k=0.5 * (lo + hi) * length, sign=int(np.sign(step))))
    return out
