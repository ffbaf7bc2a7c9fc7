"""Self-consistent LSDA atomic-sphere (LMTO-ASA) potentials.

Public API: :func:`scf` (self-consistent potential parameters of an element or a random alloy
of any number of species, fcc or bcc, as a JSON-ready dict in the ``tbmto-potentials/2`` format
of docs/interfaces.md) and
:func:`write_potentials` (atomic JSON write).

Modules: ``mesh`` (log mesh, quadrature), ``xc`` (PW92 LSDA), ``radial`` (scalar-relativistic
radial solver), ``atom`` (free-atom LSDA, frozen core), ``parameters`` (C, Δ, γ, ξ),
``sphere`` (sphere density and potential), ``bands`` (TB-LMTO bands, Fermi level, moments),
``madelung`` (Ewald), ``cpa`` (TB-LMTO-ASA coherent potential approximation), ``scf``
(self-consistency for elements and alloys, the alloy models cpa and supercell); the
file writer is :func:`tbmto.io.write_potentials`.
"""

from ..io import write_potentials
from .scf import scf

__all__ = ["scf", "write_potentials"]
