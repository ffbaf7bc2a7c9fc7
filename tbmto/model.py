r"""The MTO model of a lead | slab | lead structure: what the WFM engine needs per k∥.

Between the geometry (:mod:`tbmto.structure`, :mod:`tbmto.layers`) and the model-agnostic
solver (:mod:`tbmto.wfm`) sits one object per structure and magnetisation: an
:class:`MTOModel` holds the S^α pair tables and principal layers (k∥ independent) and the
on-site terms P^α(E) (and the screened SOC terms) of every atom, and returns per k∥ the
blocks of H = S^α(k∥) − P^α (Andersen & Jepsen, PRL 53, 2571 (1984)) with
:meth:`MTOModel.blocks`, and their derivatives with respect to a rigid rotation θ_d of the
slab moments about each of the axes ê_d with :meth:`MTOModel.blocks_and_derivatives` (∂H/∂θ_d =
−∂P^α/∂θ_d on site; the screened SOC form also has coupling derivatives).

:class:`NestedMTOModel` describes the structures of several nested slab lengths L₁ < … < Lₙ
cut from one longest stack (:func:`tbmto.structure.truncate`) as one *trunk* (the longest
stack's principal layers up to the last one that every truncated stack shares with it) and
one *branch* per length (the truncated stack's layers from its branch point on: the right
buffer, and before it the few slab layers whose blocks differ from the trunk's — the
principal layer that holds the cut and, with frozen thermal displacements, the layers within
the screening-cluster radius of the cut, whose S^α sees the undisplaced buffer atoms). The
branch blocks come from a :class:`MTOModel` of a *window* of the truncated stack that begins
far enough before the branch point that every kept block has its complete screening
cluster, so they are exactly the truncated stack's blocks. One sweep of
:func:`tbmto.wfm.smatrix_nested` then gives every length.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from ase import Atoms

from tbmto.layers import HamiltonianBlocks, LayeredSystem, build_layered_system
from tbmto.lmto.structure_constants import PAIR_CLUSTER_RADIUS_W, SCREENING_ALPHA
from tbmto.onsite import OnsiteTerms, onsite_terms
from tbmto.potentials import Potentials
from tbmto.materials import wigner_seitz_radius
from tbmto.structure import REGION_LEFT, REGION_SLAB, truncate
from tbmto.wfm import Branch, LeadSolver

__all__ = ["MTOModel", "NestedMTOModel", "transverse_axes"]


def transverse_axes(m: np.ndarray, axis: Sequence[float] | None = None) -> np.ndarray:
    """Two orthonormal rotation axes ⊥ the mean magnetisation m̄ of the rotated atoms.

    ê₁ = ẑ × m̄ / |ẑ × m̄| (x̂ when m̄ ∥ ẑ) or the given ``axis``; ê₂ = m̄ × ê₁. The damping
    tensor G̃_ab = ⟨Re Tr ∂S†/∂θ_a ∂S/∂θ_b⟩ is taken in this frame (seed Eqs. 66–69).

    Parameters
    ----------
    m : ndarray (n, 3)
        Unit magnetisation directions of the rotated atoms.
    axis : 3-vector, optional
        First axis (unit, ⊥ m̄).

    Returns
    -------
    ndarray (2, 3)

    Raises
    ------
    ValueError
        If m̄ vanishes (pass ``axis``), or ``axis`` is not a unit vector ⊥ m̄.
    """
    mbar = np.mean(np.asarray(m, dtype=float), axis=0)
    nrm = float(np.linalg.norm(mbar))
    if axis is None:
        if nrm < 1e-8:
            raise ValueError("the mean slab magnetisation vanishes; pass damping_axis explicitly")
        u = mbar / nrm
        e1 = np.cross([0.0, 0.0, 1.0], u)
        e1 = np.array([1.0, 0.0, 0.0]) if np.linalg.norm(e1) < 1e-8 else e1 / np.linalg.norm(e1)
    else:
        e1 = np.asarray(axis, dtype=float)
        if e1.shape != (3,) or abs(np.linalg.norm(e1) - 1) > 1e-6:
            raise ValueError(f"damping_axis must be a unit 3-vector, got {axis!r}")
        if abs(e1 @ mbar) > 1e-6 * max(1.0, nrm):
            raise ValueError(f"damping_axis must be perpendicular to the mean slab magnetisation {mbar}")
        if nrm < 1e-8:
            raise ValueError("the mean slab magnetisation vanishes: the second transverse axis is undefined")
        u = mbar / nrm
    e2 = np.cross(u, e1)
    return np.stack([e1, e2 / np.linalg.norm(e2)])


def _take(terms: OnsiteTerms, index: np.ndarray) -> OnsiteTerms:
    """On-site terms of the atoms ``index`` (every per-atom array indexed)."""
    fields = {f: getattr(terms, f)[index] for f in ("p", "dp", "a", "x", "da", "dx")
              if getattr(terms, f) is not None}
    return dataclasses.replace(terms, **fields)


def _block_diagonal(blocks: np.ndarray) -> scipy.sparse.bsr_matrix:
    """Sparse block-diagonal matrix of per-atom (natoms, 18, 18) blocks."""
    n = blocks.shape[0]
    return scipy.sparse.bsr_matrix((np.ascontiguousarray(blocks, dtype=complex), np.arange(n), np.arange(n + 1)),
                                   shape=(18 * n, 18 * n))


@dataclass
class MTOModel:
    """Blocks of H = S^α(k∥) − P^α(E) of one structure and their θ_d derivatives.

    Attributes
    ----------
    layered : LayeredSystem
        S^α pairs and principal layers.
    terms : OnsiteTerms
        On-site terms of every atom (P^α; A, X for the screened SOC form).
    dterms : tuple of OnsiteTerms
        Per rotation axis, the terms carrying ∂P^α/∂θ_d (and ∂A, ∂X): empty without damping.
    axes : ndarray (n_d, 3)
        Rotation axes (unit vectors).
    dh_site : tuple of list
        Per axis and principal layer, the k-independent on-site ∂H/∂θ_d = −∂P^α/∂θ_d: block
        diagonal (18 × 18 per atom) ``scipy.sparse.bsr_matrix`` for the parameter forms (the
        solver then multiplies in O(18 n) per column), dense for the screened form (whose
        derivative blocks mix them with the k-dependent S^α).
    """

    layered: LayeredSystem
    terms: OnsiteTerms
    dterms: tuple[OnsiteTerms, ...]
    axes: np.ndarray
    dh_site: tuple = ()

    @classmethod
    def build(cls, atoms: Atoms, potentials: Potentials, energy_Ry: float, soc: bool, soc_form: str,
              rotated: np.ndarray | None = None, axes: np.ndarray | None = None,
              layered: LayeredSystem | None = None, w: float | None = None, cutoff: float | None = None,
              cluster_radius: float | None = None) -> "MTOModel":
        """Model of ``atoms`` (a :func:`tbmto.structure.build_stack` stack).

        Parameters
        ----------
        atoms : ase.Atoms
        potentials : Potentials
        energy_Ry : float
            Energy relative to E_F (Ry).
        soc : bool
        soc_form : {"orthogonal", "screened", "exact"}
        rotated : ndarray of bool, optional
            Atoms that rotate for the derivatives (default: the slab).
        axes : ndarray (n_d, 3), optional
            Rotation axes; None: no derivatives.
        layered : LayeredSystem, optional
            Pre-built S^α tables of this geometry.
        w, cutoff, cluster_radius : float, optional
            Wigner–Seitz radius, pair range and cluster radius (Å) for
            :func:`tbmto.layers.build_layered_system`.
        """
        if layered is None:
            layered = build_layered_system(atoms, w=w, cutoff=cutoff, cluster_radius=cluster_radius)
        m = np.asarray(atoms.arrays["magmom_dir"], dtype=float)
        m = m / np.linalg.norm(m, axis=1, keepdims=True)
        symbols = atoms.get_chemical_symbols()
        if rotated is None:
            rotated = np.asarray(atoms.arrays["region"]) == REGION_SLAB
        axes = np.zeros((0, 3)) if axes is None else np.asarray(axes, dtype=float).reshape(-1, 3)
        common = dict(soc=bool(soc), soc_form=soc_form, alpha=SCREENING_ALPHA)
        if len(axes) == 0:
            terms = onsite_terms(potentials, symbols, m, float(energy_Ry), **common)
            return cls(layered, terms, (), axes)
        dterms = tuple(onsite_terms(potentials, symbols, m, float(energy_Ry), rotated=rotated, axis=ax, **common)
                       for ax in axes)
        return cls.from_terms(layered, dterms[0], dterms, axes)

    @classmethod
    def from_terms(cls, layered: LayeredSystem, terms: OnsiteTerms, dterms: tuple[OnsiteTerms, ...],
                   axes: np.ndarray) -> "MTOModel":
        """Model from S^α tables and per-atom on-site terms (e.g. :meth:`take` of another model's)."""
        if not dterms:
            dh_site = ()
        elif dterms[0].x is None:
            dh_site = tuple([_block_diagonal(-dt.dp[at]) for at in layered.pl_atoms] for dt in dterms)
        else:
            dh_site = tuple(layered.onsite_blocks(-dt.dp) for dt in dterms)
        return cls(layered, terms, tuple(dterms), np.asarray(axes, dtype=float).reshape(-1, 3), dh_site)

    def take(self, index: np.ndarray, layered: LayeredSystem) -> "MTOModel":
        """Model of a structure whose atom j is this structure's atom ``index[j]`` (same species,
        magnetisation and rotation), with the S^α tables ``layered``: the on-site terms are
        copied, not recomputed (the exact single-site solve is the expensive part)."""
        terms = _take(self.terms, index)
        dterms = tuple(_take(dt, index) for dt in self.dterms)
        return MTOModel.from_terms(layered, dterms[0] if dterms else terms, dterms, self.axes)

    @property
    def n_derivatives(self) -> int:
        """Number of rotation axes (0 without damping)."""
        return len(self.axes)

    def blocks(self, k) -> HamiltonianBlocks:
        """H blocks at k∥ (1/Å) for :func:`tbmto.wfm.smatrix`."""
        lay, t = self.layered, self.terms
        b = lay.hamiltonian_blocks(k, t.p, t.p[lay.left_lead_atoms], t.p[lay.right_lead_atoms])
        if t.x is None:
            return b
        return lay.screened_soc_blocks(b, t.x, t.a)[0]

    def blocks_and_derivatives(self, k) -> tuple[HamiltonianBlocks, list, list]:
        """H blocks at k∥ and, per axis d, ∂h_i/∂θ_d (list of M blocks) and ∂v_i/∂θ_d (list of
        M + 1 blocks or None; None for the whole list when the couplings do not depend on θ);
        empty lists without rotation axes."""
        lay, t = self.layered, self.terms
        if not self.dterms or t.x is None:  # ∂H/∂θ = −∂P^α/∂θ on site
            return self.blocks(k), list(self.dh_site), [None] * len(self.dh_site)
        scalar = lay.hamiltonian_blocks(k, t.p, t.p[lay.left_lead_atoms], t.p[lay.right_lead_atoms])
        dh, dv = [], []
        for dt, dh_site in zip(self.dterms, self.dh_site):
            b, dhd, dvd = lay.screened_soc_blocks(scalar, t.x, t.a, dh_site, dt.dx, dt.da)
            dh.append(dhd)
            dv.append(dvd)
        return b, dh, dv


@dataclass
class _Tail:
    """Branch of one length: the window model and where its kept layers start."""

    length: int
    at: int  # trunk PLs kept
    first: int  # window PL index of the first tail layer
    model: MTOModel
    atoms: Atoms  # the truncated stack
    stop: int  # window PL index after the last tail layer (ideal buffer PLs beyond it are lead cells)


_PROBE_K = np.array([0.3137, 0.1234, 0.0])
"""A generic k∥ (1/Å) at which buffer and lead blocks are compared (:func:`_lead_like_buffer`)."""


def _lead_like_buffer(model: MTOModel, first: int) -> int:
    """Index of the first of the trailing PLs (> ``first``) that are cells of the ideal right
    lead — onsite block and outgoing coupling equal to the lead's h_R, v_R to 1e−12 of their
    scale at a generic k∥, and no θ dependence — or the number of PLs if there is none.

    lead | … | cut | ideal cells | lead is the same system as lead | … | cut | lead with the
    lead starting at the first ideal cell: the lead's self-energy and modes are unchanged and
    only its reference plane moves, a unitary diagonal phase λ^q on its propagating modes that
    leaves Tr t†t and Re Tr ∂S†∂S unchanged. Those cells need not be swept. With frozen
    displacements the buffer PLs near the cut see displaced atoms through screening (their
    blocks differ from the lead's) and with the screened SOC form θ enters the coupling into the
    buffer: such PLs are kept."""
    m = model.layered.n_pl
    if model.terms.x is not None:
        return m
    b = model.blocks(_PROBE_K)
    hr, vr = b.h_right, b.v_right
    scale = max(1.0, float(np.max(np.abs(hr))), float(np.max(np.abs(vr))))

    def same(x, ref):
        return x.shape == ref.shape and float(np.max(np.abs(x - ref))) <= 1e-12 * scale

    def rotated(q):
        return any(np.any(d[q].data != 0) if scipy.sparse.issparse(d[q]) else np.any(d[q] != 0)
                   for d in model.dh_site)

    stop = m
    for q in range(m - 1, first, -1):
        if not (same(b.h_slab[q], hr) and same(b.v_slab[q + 1], vr)) or rotated(q):
            break
        stop = q
    return stop


def _window(trunc: Atoms, first_layer: int, n_pl: int) -> Atoms:
    """The atoms of ``trunc`` with atomic layer ≥ ``first_layer``; the window's first principal
    layer is relabelled as lead buffer so that it can stand in for one (only the S^α tables of
    later layers are used; the on-site terms, rotations included, come from the longest stack)."""
    layer = np.asarray(trunc.arrays["layer"])
    win = trunc[layer >= first_layer]
    reg = np.asarray(win.arrays["region"]).copy()
    reg[np.asarray(win.arrays["layer"]) < first_layer + n_pl] = REGION_LEFT
    win.arrays["region"] = reg
    return win


@dataclass
class NestedMTOModel:
    """One trunk and one branch per nested length (module docstring).

    Attributes
    ----------
    trunk : MTOModel
        Model of the longest stack.
    n_trunk : int
        Trunk principal layers that the branches need.
    tails : list
        Per length (ascending): the branch point, the window model and the truncated stack.
    lengths : tuple of int
        Slab lengths (atomic layers).
    """

    trunk: MTOModel
    n_trunk: int
    tails: list
    lengths: tuple[int, ...]

    @classmethod
    def build(cls, atoms: Atoms, lengths: Sequence[int], potentials: Potentials, energy_Ry: float,
              soc: bool, soc_form: str, axes: np.ndarray | None = None,
              trunk_layered: LayeredSystem | None = None, w: float | None = None,
              cutoff: float | None = None, cluster_radius: float | None = None) -> "NestedMTOModel":
        """Trunk and branches for ``lengths`` (each ≤ the slab of ``atoms``).

        Parameters
        ----------
        atoms : ase.Atoms
            The longest stack (a nested :func:`tbmto.structure.build_stack` stack, or any stack:
            the lengths are then prefixes of its slab).
        lengths : sequence of int
            Slab lengths L_i in atomic layers (strictly increasing; accepted by
            :func:`tbmto.structure.truncate`).
        potentials, energy_Ry, soc, soc_form, axes, w, cutoff, cluster_radius
            As in :meth:`MTOModel.build`.
        trunk_layered : LayeredSystem, optional
            Pre-built S^α tables of ``atoms``.
        """
        trunk = MTOModel.build(atoms, potentials, energy_Ry, soc, soc_form, axes=axes, layered=trunk_layered,
                               w=w, cutoff=cutoff, cluster_radius=cluster_radius)
        lay = trunk.layered
        n_pl = lay.n_pl_layers
        d = float(atoms.info["layer_spacing_angstrom"])
        layer = np.asarray(atoms.arrays["layer"])
        region = np.asarray(atoms.arrays["region"])
        symbols = atoms.get_chemical_symbols()
        lmin = int(layer.min())
        wsr = wigner_seitz_radius(float(atoms.info["lattice_constant_angstrom"]), atoms.info.get("lattice", "fcc")) if w is None else w
        r_cl = max(PAIR_CLUSTER_RADIUS_W * wsr, cutoff or 0.0) if cluster_radius is None else cluster_radius
        slab_layers = int(np.unique(layer[region == REGION_SLAB]).size)
        displaced = "ideal_positions" in atoms.arrays and bool(
            np.any(atoms.positions != atoms.arrays["ideal_positions"]))
        reach = int(math.floor(r_cl / d)) if displaced else 0  # layers whose clusters see the cut
        margin = int(math.ceil(r_cl / (n_pl * d))) + 1  # PLs before the kept ones (full clusters)
        tails = []
        for L in lengths:
            L = int(L)
            # first PL whose blocks may differ from the trunk's: the one holding the first
            # changed layer, and at the latest the one holding the last slab layer (the PL
            # that absorbs the remainder of the partition, principal_layer_sizes)
            at = max(0, min((L - reach - lmin) // n_pl, (L - 1 - lmin) // n_pl))
            if L == slab_layers:  # the longest stack itself: its own blocks, no window
                trunc, model, start = atoms, trunk, 0
            else:
                trunc = truncate(atoms, L)
                start = max(0, at - 1 - margin)
                # truncate keeps the buffers and the slab layers < L in order: trunc atom j is
                # atom kept[j] of the longest stack
                kept = np.flatnonzero((region != REGION_SLAB) | (layer < L))
                first_layer = lmin + start * n_pl
                win_atoms = trunc if start == 0 else _window(trunc, first_layer, n_pl)
                index = kept[np.asarray(trunc.arrays["layer"]) >= first_layer]
                if (win_atoms.get_chemical_symbols() != [symbols[j] for j in index]
                        or not np.array_equal(win_atoms.arrays["magmom_dir"], atoms.arrays["magmom_dir"][index])):
                    raise RuntimeError(f"length {L}: truncated stack does not map onto the longest one (internal error)")
                win_layered = build_layered_system(win_atoms, w=w, cutoff=cutoff, cluster_radius=cluster_radius)
                model = trunk.take(index, win_layered)
                if model.layered.n_pl_layers != n_pl:
                    raise RuntimeError(f"length {L}: window PL thickness {model.layered.n_pl_layers} != {n_pl}")
                model.layered.share_leads(lay)  # the right lead: the trunk's tables, one lead solve
            first = at - start
            off = int(np.sum(np.asarray(trunc.arrays["layer"]) < lmin + start * n_pl))
            for q in range(start, at):  # shared layers: same atoms in the same order
                if not np.array_equal(model.layered.pl_atoms[q - start] + off, lay.pl_atoms[q]):
                    raise RuntimeError(f"length {L}: principal layer {q} of the truncated stack differs "
                                       "from the trunk's (internal error)")
            tails.append(_Tail(length=L, at=at, first=first, model=model, atoms=trunc,
                               stop=_lead_like_buffer(model, first)))
        n_trunk = max(t.at for t in tails)
        return cls(trunk, n_trunk, tails, tuple(int(L) for L in lengths))

    def systems(self, k, leads: LeadSolver):
        """Everything :func:`tbmto.wfm.smatrix_nested` needs at k∥.

        Returns
        -------
        dict
            ``left`` (LeadModes), ``trunk_h``, ``trunk_v``, ``trunk_dh``, ``trunk_dv``,
            ``branches`` (list of :class:`tbmto.wfm.Branch`, one per length) and
            ``derivatives``.
        """
        n_d = self.trunk.n_derivatives
        p = self.n_trunk
        b, dh, dv = self.trunk.blocks_and_derivatives(k)
        left = leads.modes(b.h_left, b.v_left, 0.0, name="left lead")
        branches = []
        for t in self.tails:
            wb, wdh, wdv = (b, dh, dv) if t.model is self.trunk else t.model.blocks_and_derivatives(k)
            right = leads.modes(wb.h_right, wb.v_right, 0.0, name="right lead")
            j, e = t.first, t.stop  # window PLs j … e−1; PL e on is the right lead
            tdv = []
            for x in wdv:
                if x is None:
                    tdv.append(None)
                else:
                    tail_dv = list(x[j:e + 1])
                    if t.at == 0:
                        tail_dv[0] = None
                    tdv.append(tail_dv)
            branches.append(Branch(at=t.at, h=wb.h_slab[j:e], v=wb.v_slab[j:e + 1], right=right,
                                   dh=[x[j:e] for x in wdh] if n_d else None, dv=tdv if n_d else None))
        return dict(left=left, trunk_h=b.h_slab[:p], trunk_v=b.v_slab[:p],
                    trunk_dh=[x[:p] for x in dh] if n_d else None,
                    trunk_dv=[None if x is None else x[:p] for x in dv] if n_d else None,
                    branches=branches, derivatives=n_d)
