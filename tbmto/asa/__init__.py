"""Self-consistent LSDA atomic-sphere (LMTO-ASA) potentials.

Public API: :func:`scf` (self-consistent potential parameters of an element or fcc NiFe as a
JSON-ready dict in the ``tbmto-potentials/1`` format of docs/interfaces.md) and
:func:`write_potentials` (atomic JSON write).

Modules: ``mesh`` (log mesh, quadrature), ``xc`` (PW92 LSDA), ``radial`` (scalar-relativistic
radial solver), ``atom`` (free-atom LSDA, frozen core), ``parameters`` (C, Δ, γ, ξ),
``sphere`` (sphere density and potential), ``bands`` (TB-LMTO bands, Fermi level, moments),
``madelung`` (Ewald), ``scf`` (self-consistency for elements and NiFe alloys), ``io``.
"""

from .io import write_potentials
from .scf import scf

__all__ = ["scf", "write_potentials"]
