"""TB-LMTO core: real harmonics, canonical and screened structure constants, potential
functions with spin–orbit coupling and spin rotation, and the bulk orthogonal Hamiltonian.

Conventions: Andersen & Jepsen, PRL 53, 2571 (1984) (screened structure constants, potential
functions); contract: ``docs/interfaces.md``.
Lengths in the caller's unit (Å in the transport code), energies in Ry.

Modules
-------
harmonics            real spherical harmonics, real Gaunt coefficients, rotation matrices
structure_constants  S⁰(d), real-space screened S^α (pairs for any positions, bulk S^α(k))
potential_functions  on-site P^α(E) (18×18, SOC, non-collinear m), ∂P^α/∂θ, L·S
hamiltonian          bulk orthogonal Hamiltonian H = C + √Δ S^γ √Δ (± ξ L·S)
"""

from . import hamiltonian, harmonics, potential_functions, structure_constants
from .hamiltonian import orthogonal_hamiltonian, orthogonal_hamiltonian_soc
from .harmonics import real_gaunt, real_harmonics
from .potential_functions import ls_matrix, onsite_p, onsite_p_dtheta
from .structure_constants import (
    SCREENING_ALPHA,
    Pairs,
    bloch_salpha,
    bloch_sum,
    bulk_pairs,
    canonical,
    screened_pairs,
)

__all__ = [
    "hamiltonian",
    "harmonics",
    "potential_functions",
    "structure_constants",
    "SCREENING_ALPHA",
    "Pairs",
    "bloch_salpha",
    "bloch_sum",
    "bulk_pairs",
    "canonical",
    "screened_pairs",
    "real_harmonics",
    "real_gaunt",
    "ls_matrix",
    "onsite_p",
    "onsite_p_dtheta",
    "orthogonal_hamiltonian",
    "orthogonal_hamiltonian_soc",
]
