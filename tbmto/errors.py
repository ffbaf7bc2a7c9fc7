"""Error classes of tbmto and the exit status of the ``tbmto`` command for each.

The command line (:func:`tbmto.cli.main`) tells three kinds of failure apart by its exit status,
so that a workflow or a batch script can react to them differently:

=====================  ======  ===========================================================
kind                   status  raised as
=====================  ======  ===========================================================
usage                  2       bad options (argparse), :class:`tbmto.config.ConfigError`,
                               ``ValueError`` from a bad argument value
physics / numerics     3       :class:`PhysicsError` (e.g. :class:`LeadModeError`: an energy at
                               a lead band edge, a lost channel; an SCF that does not converge)
missing input          4       ``FileNotFoundError`` (a structure, potentials or result file)
=====================  ======  ===========================================================

Anything else is a bug and ends with a traceback (status 1). The messages are kept as raised;
the command line and :func:`tbmto.transport.compute` add the context (structure, k-point,
what to change) before they reach the user.
"""

from __future__ import annotations

__all__ = ["PhysicsError", "LeadModeError", "LocalisationWarning", "EXIT_USAGE", "EXIT_PHYSICS", "EXIT_MISSING_INPUT"]

EXIT_USAGE = 2
"""Exit status of ``tbmto`` for a usage error: a bad option, config key or argument value."""

EXIT_PHYSICS = 3
"""Exit status of ``tbmto`` for a physics or numerics failure (:class:`PhysicsError`)."""

EXIT_MISSING_INPUT = 4
"""Exit status of ``tbmto`` for a missing input file (``FileNotFoundError``)."""


class PhysicsError(RuntimeError):
    """A calculation that cannot give a trustworthy number for these physical inputs.

    Examples: the energy lies at a band edge of a lead at some k∥ (no well-defined propagating
    modes), a channel is lost in the lead-mode count, the self-consistent potentials do not
    converge. The inputs are well-formed (otherwise a ``ValueError`` is raised); a different
    k mesh, lattice constant or SCF setting is the remedy, which the message names.
    """


class LeadModeError(PhysicsError, ValueError):
    """The Bloch modes of a lead cannot be computed at this energy and k∥ (band edge, singular
    lead pencil or self-energy, inconsistent mode count).

    Also a ``ValueError`` (the historical type of these failures in :mod:`tbmto.wfm`), so code
    that catches ``ValueError`` keeps working.
    """


class LocalisationWarning(RuntimeWarning):
    """A line fit over slab lengths at which the supercell slab is Anderson-localised.

    Every k∥ of a periodic lateral supercell is an independent quasi-one-dimensional disordered
    wire, whose localisation length grows with its number of channels, i.e. with the cell area.
    Once the k-averaged conductance per cell falls below one e²/h, the slab is longer than that
    length: ⟨ln Tr t t†⟩ falls linearly in L, R(L) is no longer Ohmic and the damping
    Re Tr ∂S†/∂θ ∂S/∂θ is dominated by a few k∥ at narrow resonances. Such lengths measure the
    lateral cell, not the bulk: fit shorter slabs or use a larger supercell. In cells with one
    or two channels per k∥ (1×1 cells) a disordered slab is localised after a few mean free
    paths, so the warning is expected there.
    """
