"""Model-agnostic wave-function-matching (WFM) scattering engine.

Takes the blocks of a block-tridiagonal secular matrix K = E − H (lead | slab | lead)
and returns the flux-normalised scattering matrix and, optionally, its analytic
derivative with respect to a parameter θ that enters the slab onsite blocks and the
couplings between slab layers (not the leads or the lead couplings): the Gilbert damping
from Re Tr(∂S†/∂θ ∂S/∂θ) (Brataas, Tserkovnyak, Bauer & Kelly, arXiv:1108.0385, Eqs. 66–70).

Public API
----------
smatrix       S-matrix (and dS/dθ) of a lead | slab | lead system
lead_modes    flux-normalised Bloch modes and Bloch matrices of one lead
SMatrixResult result dataclass of :func:`smatrix`
LeadModes     result dataclass of :func:`lead_modes`
LeadModeCache content-addressed memory/disk cache of :func:`lead_modes` results
"""

from .cache import LeadModeCache
from .leads import LeadModes, lead_modes
from .solver import SMatrixResult, smatrix, smatrix_from_modes

__all__ = ["smatrix", "smatrix_from_modes", "SMatrixResult", "lead_modes", "LeadModes", "LeadModeCache"]
