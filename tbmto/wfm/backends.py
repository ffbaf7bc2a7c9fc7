"""Where the solver gets lead modes from: computed directly or through a cache (model-agnostic).

A :class:`LeadSolver` is the lead back-end of one k∥ point (or any one set of systems that may
share leads): :meth:`LeadSolver.modes` returns the modes of a lead (h, v) at an energy, solving
each distinct lead once — identical left and right leads, or the right leads of several
nested closures, share one solve — and, with a :class:`~tbmto.wfm.cache.LeadModeCache`,
looking them up in its memory/disk layers first. Results are bitwise those of
:func:`~tbmto.wfm.leads.lead_modes`; the counters say where every lead came from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .cache import LeadModeCache
from .leads import LeadModes, lead_modes

__all__ = ["LeadSolver", "LeadStats"]


@dataclass
class LeadStats:
    """Counters of one :class:`LeadSolver`.

    Attributes
    ----------
    lookups : int
        Distinct leads asked for (a repeated identical lead is counted once).
    memory_hits, disk_hits, computed : int
        Where the distinct leads came from (``computed`` = :func:`lead_modes` called here).
    seconds : float
        Wall time spent obtaining lead modes (s).
    """

    lookups: int = 0
    memory_hits: int = 0
    disk_hits: int = 0
    computed: int = 0
    seconds: float = 0.0


@dataclass
class LeadSolver:
    """Lead modes for a set of systems, each distinct lead solved (or looked up) once.

    Parameters
    ----------
    cache : LeadModeCache, optional
        Content-addressed cache consulted before solving; None: always solve.
    """

    cache: LeadModeCache | None = None
    stats: LeadStats = field(default_factory=LeadStats)
    _seen: list = field(default_factory=list, repr=False)

    def modes(self, h: np.ndarray, v: np.ndarray, energy: float = 0.0, name: str = "lead") -> LeadModes:
        """Modes of the lead (h, v) at ``energy`` (see :func:`tbmto.wfm.lead_modes`)."""
        for hh, vv, e, m in self._seen:
            if e == energy and hh.shape == h.shape and np.array_equal(hh, h) and np.array_equal(vv, v):
                return m
        t0 = time.perf_counter()
        if self.cache is None:
            m = lead_modes(h, v, energy, name=name)
            self.stats.computed += 1
        else:
            m, src = self.cache.lookup(h, v, energy, name=name)
            if src == "memory":
                self.stats.memory_hits += 1
            elif src == "disk":
                self.stats.disk_hits += 1
            else:
                self.stats.computed += 1
        self.stats.seconds += time.perf_counter() - t0
        self.stats.lookups += 1
        self._seen.append((h, v, energy, m))
        return m
