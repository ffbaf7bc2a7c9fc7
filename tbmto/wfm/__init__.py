"""Model-agnostic wave-function-matching (WFM) scattering engine.

Takes the blocks of a block-tridiagonal secular matrix K = E − H (lead | slab | lead)
and returns the flux-normalised scattering matrix and, optionally, its analytic
derivative with respect to a parameter θ that enters the slab onsite blocks and the
couplings between slab layers (not the leads or the lead couplings): the Gilbert damping
from Re Tr(∂S†/∂θ ∂S/∂θ) (Brataas, Tserkovnyak, Bauer & Kelly, arXiv:1108.0385, Eqs. 66–70).

Public API
----------
smatrix       S-matrix (and dS/dθ) of a lead | slab | lead system
smatrix_nested  S-matrices (and dS/dθ_d) of systems sharing a trunk of layers, one sweep
Branch        one closure of the trunk (tail layers + right lead) for :func:`smatrix_nested`
lead_modes    flux-normalised Bloch modes and Bloch matrices of one lead
SMatrixResult result dataclass of :func:`smatrix`
LeadModes     result dataclass of :func:`lead_modes`
LeadModeCache content-addressed memory/disk cache of :func:`lead_modes` results
LeadSolver    lead back-end: each distinct lead of a k∥ point solved (or looked up) once
"""

from .backends import LeadSolver, LeadStats
from .cache import LeadModeCache
from .leads import LeadModes, lead_modes
from .solver import Branch, SMatrixResult, smatrix, smatrix_from_modes, smatrix_nested

__all__ = ["smatrix", "smatrix_from_modes", "smatrix_nested", "Branch", "SMatrixResult", "lead_modes",
           "LeadModes", "LeadModeCache", "LeadSolver", "LeadStats"]
