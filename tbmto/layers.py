"""Principal layers and k∥ Bloch sums: the block-tridiagonal secular matrix for the WFM engine.

The MTO secular matrix of a lead | scattering region | lead stack is K = P^α(E) − S^α(k∥)
(Andersen & Jepsen, PRL 53, 2571 (1984)). The WFM engine (:func:`tbmto.wfm.smatrix`) uses K = E − H with
H_{j,j+1} = v, so we pass the Hermitian H = S^α(k∥) − P^α(E) at E = 0.

Geometry (``tbmto.structure``): atomic layers ℓ stacked along +z; layer ℓ+1 is layer ℓ
translated by t = δ + d ẑ (modulo lateral lattice vectors). Everything in the Atoms object
(left lead buffer, slab, right lead buffer) is the *scattering region*: the buffer layers see
the displaced slab atoms through screening.

Principal layers: the PL thickness n_PL (atomic layers) is the interaction range, the largest
|Δℓ| between atoms closer than the S^α cutoff (fcc(001) with the 2-shell cutoff: 2;
fcc(111): 1; checked against the pairs kept). The scattering-region layers are grouped from
the left into PLs of n_PL layers; a remainder smaller than n_PL is merged into the PL holding
the last slab layer, so that couplings remain between neighbouring PLs only.

Leads: the semi-infinite leads continue the first (last) buffer PL — its n_PL ideal atomic
layers — by the crystal translation −q T_PL (+q T_PL), q = 1, 2, …, T_PL = n_PL t + G with G
the primitive in-plane lattice vector that makes the lateral part shortest. The lead PL next
to the scattering region therefore has exactly the atom (orbital) order of the first (last)
buffer PL, and the ideal-lead blocks (h, v), taken from a separate perfect-lead stack built
from the same reference positions, share the Bloch gauge of v_slab[0] and v_slab[M].

Screening clusters: S^α pairs come from :func:`tbmto.lmto.structure_constants.screened_pairs`
on the scattering region padded on both sides with ideal lead PLs (⌈R_cl/(n_PL d)⌉ + 2 PLs),
so that the buffer and the lead PL next to it have complete clusters. When the structure
carries ``ideal_positions`` (``tbmto.structure.build_stack`` does), they are passed as
``reference_positions``: clusters and the pair cutoff follow the undisplaced lattice, so the
pair set (and the PL partition) is the same for every frozen-thermal configuration and S^α is
a smooth function of the displacements.

Orbital order (docs/interfaces.md): inside a PL, atoms in PL order, then spin σ (↑/↓ along
global z), then L (9): index 18·a + 9σ + L — the [atom][spin][L] order, i.e. the 18 × 18
per-atom blocks of :func:`tbmto.lmto.potential_functions.onsite_p` sit on the diagonal.
S^α is spin independent: S ⊗ 1₂ in this order.

Bloch sums (lattice-translation gauge of ``tbmto.lmto``):
S_{iL, jL'}(k∥) = Σ_T S^α_{iL, (j+T)L'} e^{i k∥·T}, T = shift @ cell2d. Per k∥: one phase
vector over all pairs, a sparse sum over pairs sharing (block, i, j), and one fancy-index
assignment per block and spin into freshly zeroed dense blocks — no loop over atoms.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
from ase import Atoms

from tbmto.lmto.structure_constants import (
    PAIR_CLUSTER_RADIUS_W,
    PAIR_CUTOFF_W,
    SCREENING_ALPHA,
    Pairs,
    screened_pairs,
)
from tbmto.materials import wigner_seitz_radius

__all__ = [
    "LayeredSystem",
    "HamiltonianBlocks",
    "build_layered_system",
    "principal_layer_sizes",
    "interaction_range",
    "spinful",
    "kmesh",
    "KGRIDS",
    "PAIR_CUTOFF_W",
    "PAIR_CLUSTER_RADIUS_W",
]



def principal_layer_sizes(n_layers: int, n_pl: int, last_slab_offset: int) -> list[int]:
    """Sizes (in atomic layers) of the PLs of a scattering region.

    Parameters
    ----------
    n_layers : int
        Atomic layers in the scattering region (≥ n_pl).
    n_pl : int
        Interaction range in atomic layers (≥ 1).
    last_slab_offset : int
        Position (0-based, from the left end) of the last slab layer; the remainder
        n_layers mod n_pl is merged into the PL containing it.

    Returns
    -------
    list of int
        PL sizes from left to right, each ≥ n_pl, summing to n_layers.
    """
    if n_pl < 1:
        raise ValueError(f"n_pl must be >= 1, got {n_pl}")
    if n_layers < n_pl:
        raise ValueError(
            f"the scattering region has {n_layers} atomic layers, fewer than the interaction "
            f"range of {n_pl} layers; add lead_layers"
        )
    m, r = divmod(n_layers, n_pl)
    sizes = [n_pl] * m
    c = min(max(last_slab_offset, 0) // n_pl, m - 1)
    sizes[c] += r
    return sizes


def spinful(s: np.ndarray, n_row: int, n_col: int) -> np.ndarray:
    """S ⊗ 1₂ in [atom][spin][L] order.

    Parameters
    ----------
    s : ndarray (9 n_row, 9 n_col)
        Spinless block, orbital index 9a + L.
    n_row, n_col : int
        Atom counts.

    Returns
    -------
    ndarray (18 n_row, 18 n_col), complex
        Index 18a + 9σ + L, δ_σσ′ S.
    """
    s4 = np.asarray(s).reshape(n_row, 9, n_col, 9)
    out = np.zeros((n_row, 2, 9, n_col, 2, 9), dtype=complex)
    out[:, 0, :, :, 0, :] = s4
    out[:, 1, :, :, 1, :] = s4
    return out.reshape(18 * n_row, 18 * n_col)


def _block_diag_add(h: np.ndarray, onsite: np.ndarray, sign: float = 1.0) -> None:
    """h[18a:18a+18, 18a:18a+18] += sign · onsite[a] in place (vectorised)."""
    n = onsite.shape[0]
    h6 = h.reshape(n, 18, n, 18)
    ar = np.arange(n)
    h6[ar, :, ar, :] += sign * onsite


def _bd_right(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    """h @ X for X block diagonal with per-atom 18 × 18 blocks x (natoms, 18, 18)."""
    n = x.shape[0]
    h3 = h.reshape(h.shape[0], n, 18).transpose(1, 0, 2)  # (natoms, rows, 18)
    return (h3 @ x).transpose(1, 0, 2).reshape(h.shape)


def _bd_left_dagger(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """X† @ h for X block diagonal with per-atom 18 × 18 blocks x (natoms, 18, 18)."""
    n = x.shape[0]
    h3 = h.reshape(n, 18, h.shape[1])
    return (x.conj().transpose(0, 2, 1) @ h3).reshape(h.shape)


def block_diag(onsite: np.ndarray) -> np.ndarray:
    """Dense block-diagonal matrix of per-atom 18 × 18 blocks (natoms, 18, 18)."""
    n = onsite.shape[0]
    out = np.zeros((18 * n, 18 * n), dtype=complex)
    _block_diag_add(out, onsite)
    return out


class _BlockSum:
    """Bloch sums of a pair subset into a list of dense blocks.

    Every pair p contributes block_p e^{ik·T_p} to block b_p at local atoms (r_p, c_p).
    Pairs are sorted by (b, r, c); pairs sharing (b, r, c) (several lateral images, small
    cells) are summed by a sparse (entries × pairs) matrix, then every entry is written into
    its dense block by one vectorised fancy-index assignment per block (and spin).
    """

    def __init__(self, shapes, bid, row, col, trans, blocks):
        self.shapes = [(int(a), int(b)) for a, b in shapes]
        bid, row, col = (np.asarray(x, dtype=np.int64) for x in (bid, row, col))
        order = np.lexsort((col, row, bid))
        bid, row, col = bid[order], row[order], col[order]
        self.trans = np.asarray(trans, dtype=float)[order]  # (npairs, 3) Å
        self.blocks = np.ascontiguousarray(np.asarray(blocks, dtype=float)[order].reshape(-1, 81))
        key = np.stack([bid, row, col], axis=1)
        first = np.ones(len(bid), dtype=bool)
        first[1:] = np.any(key[1:] != key[:-1], axis=1)
        entry = np.cumsum(first) - 1
        n_entries = int(entry[-1]) + 1 if len(entry) else 0
        self.U = None
        if n_entries != len(bid):
            self.U = scipy.sparse.csr_matrix(
                (np.ones(len(bid)), (entry, np.arange(len(bid)))), shape=(n_entries, len(bid))
            )
        self.e_bid, self.e_row, self.e_col = bid[first], row[first], col[first]
        self.bounds = np.searchsorted(self.e_bid, np.arange(len(self.shapes) + 1))
        self.npairs = len(bid)

    def entries(self, k: np.ndarray) -> np.ndarray:
        """(n_entries, 9, 9) complex Σ_T S^α e^{ik·T} for every distinct (block, row, col)."""
        ph = np.exp(1j * (self.trans @ np.asarray(k, dtype=float)))
        w = self.blocks * ph[:, None]
        if self.U is not None:
            w = self.U @ w
        return w.reshape(-1, 9, 9)

    def __call__(self, k: np.ndarray, spin: bool = False) -> list[np.ndarray]:
        """Dense blocks at k: (9a, 9b) spinless or, with ``spin``, (18a, 18b) S ⊗ 1₂ in
        [atom][spin][L] order."""
        e = self.entries(k)
        res = []
        for b, (na, nb) in enumerate(self.shapes):
            lo, hi = self.bounds[b], self.bounds[b + 1]
            r, c, x = self.e_row[lo:hi], self.e_col[lo:hi], e[lo:hi]
            if spin:
                out = np.zeros((na, 2, 9, nb, 2, 9), dtype=complex)
                out[r, 0, :, c, 0, :] = x
                out[r, 1, :, c, 1, :] = x
                res.append(out.reshape(18 * na, 18 * nb))
            else:
                out = np.zeros((na, 9, nb, 9), dtype=complex)
                out[r, :, c, :] = x
                res.append(out.reshape(9 * na, 9 * nb))
        return res


@dataclass(frozen=True)
class HamiltonianBlocks:
    """Blocks of H = S^α(k∥) − P^α(E) for :func:`tbmto.wfm.smatrix` (dimensionless).

    ``v_slab`` has M + 1 entries: v_slab[0] couples the left lead PL to scattering PL 0 and
    v_slab[M] the last scattering PL to the right lead PL.
    """

    h_left: np.ndarray
    v_left: np.ndarray
    h_slab: list[np.ndarray]
    v_slab: list[np.ndarray]
    h_right: np.ndarray
    v_right: np.ndarray


@dataclass
class LayeredSystem:
    """Principal-layer partition and S^α pair tables of one structure (k∥ independent).

    Attributes
    ----------
    cell2d : ndarray (2, 3)
        Lateral supercell vectors (Å).
    n_pl_layers : int
        Interaction range / PL thickness in atomic layers.
    pl_atoms : list of ndarray
        Atom indices (into the Atoms object) of every scattering PL, in orbital order.
    left_lead_atoms, right_lead_atoms : ndarray
        For every atom of the left (right) lead PL, the index of the Atoms atom it is a
        translate of (species and magnetisation source), in lead orbital order.
    n_pairs : int
        Number of S^α pairs used by the scattering-region blocks.
    t_pl : ndarray (3,)
        Lead translation T_PL (Å) from one lead PL to the next (+z).
    lead_positions : tuple of ndarray
        Positions (Å) of the atoms of the left and right lead PL next to the scattering region
        (the reference of the ideal-lead tables, :meth:`share_leads`).
    timings : dict
        Seconds spent in ``screened_pairs`` for the padded structure and the two leads.
    """

    cell2d: np.ndarray
    n_pl_layers: int
    pl_atoms: list[np.ndarray]
    left_lead_atoms: np.ndarray
    right_lead_atoms: np.ndarray
    n_pairs: int
    t_pl: np.ndarray
    _scat: _BlockSum
    _left: _BlockSum
    _right: _BlockSum
    lead_positions: tuple = ()
    timings: dict = field(default_factory=dict)

    @property
    def area_nm2(self) -> float:
        """Lateral supercell area |a₁ × a₂| (nm²)."""
        return abs(float(np.cross(self.cell2d[0], self.cell2d[1])[2])) / 100.0

    @property
    def n_pl(self) -> int:
        """Number M of scattering-region principal layers."""
        return len(self.pl_atoms)

    def share_leads(self, other: "LayeredSystem") -> None:
        """Use ``other``'s ideal-lead tables for every lead of this system whose lead PL is a
        rigid translate of one of ``other``'s (same atom order, same T_PL): the blocks are then
        bitwise identical, so lead modes can be shared (e.g. the right leads of nested
        truncations of one stack, whose positions differ only by crystal translations and
        round-off)."""

        def same(a, b):
            d = a - b
            return a.shape == b.shape and bool(np.all(np.abs(d - d[0]) < 1e-9))

        if not np.allclose(self.t_pl, other.t_pl, rtol=0, atol=1e-12) or not other.lead_positions:
            return
        tables = [(other.lead_positions[0], other._left), (other.lead_positions[1], other._right)]
        for side, attr in ((0, "_left"), (1, "_right")):
            for ref, table in tables:
                if same(self.lead_positions[side], ref):
                    setattr(self, attr, table)
                    break

    def salpha_blocks(self, k) -> tuple[list, list, tuple, tuple]:
        """Spinless S^α(k∥) blocks.

        Parameters
        ----------
        k : array (3,)
            Cartesian k∥ in 1/Å (z component ignored by the lateral translations).

        Returns
        -------
        (h, v, (h_L, v_L), (h_R, v_R))
            Diagonal blocks of the M scattering PLs, the M+1 couplings, and the ideal-lead
            onsite and PL → next-PL blocks, orbital index 9a + L.
        """
        m = self.n_pl
        blocks = self._scat(k)
        return blocks[:m], blocks[m:], tuple(self._left(k)), tuple(self._right(k))

    def hamiltonian_blocks(self, k, p_scat: np.ndarray, p_left: np.ndarray, p_right: np.ndarray) -> HamiltonianBlocks:
        """H = S^α(k∥) ⊗ 1₂ − P^α blocks in [atom][spin][L] order.

        Parameters
        ----------
        k : array (3,)
            k∥ in 1/Å.
        p_scat : ndarray (natoms, 18, 18)
            P^α(E) of every atom of the Atoms object (index order of the Atoms).
        p_left, p_right : ndarray (n_lead_pl_atoms, 18, 18)
            P^α(E) of the atoms of the left/right lead PL in lead orbital order.
        """
        m = self.n_pl
        blocks = self._scat(k, spin=True)
        h_slab = blocks[:m]
        for h, at in zip(h_slab, self.pl_atoms):
            _block_diag_add(h, p_scat[at], -1.0)
        v_slab = blocks[m:]
        h_left, v_left = self._left(k, spin=True)
        _block_diag_add(h_left, p_left, -1.0)
        if self._right is self._left and np.array_equal(p_left, p_right):
            h_right, v_right = h_left, v_left
        else:
            h_right, v_right = self._right(k, spin=True)
            _block_diag_add(h_right, p_right, -1.0)
        return HamiltonianBlocks(
            h_left=h_left, v_left=v_left, h_slab=h_slab, v_slab=v_slab,
            h_right=h_right, v_right=v_right,
        )

    def onsite_blocks(self, per_atom: np.ndarray) -> list[np.ndarray]:
        """Per-PL dense block-diagonal matrices of per-atom (natoms, 18, 18) blocks."""
        return [block_diag(per_atom[at]) for at in self.pl_atoms]

    def screened_soc_blocks(self, b: HamiltonianBlocks, x: np.ndarray, a: np.ndarray,
                            dh: list[np.ndarray] | None = None, dx: np.ndarray | None = None,
                            da: np.ndarray | None = None):
        """Apply the first-order screened-basis SOC terms to scalar blocks.

        With H_s = S^α − P^α (the blocks ``b``, built with the no-SOC P^α) and on-site A, X
        (:func:`tbmto.lmto.potential_functions.screened_soc_terms`), the secular matrix
        K = P^α − S^α − A + (P^α − S^α) X + X†(P^α − S^α) is K = −H with

            H = H_s + H_s X + X† H_s + A,

        block by block: h_i → h_i + h_i X_i + X_i† h_i + A_i, v_i → v_i + v_i X_i + X_{i−1}† v_i
        (v_i couples PL i−1 to PL i; the lead cells use the X of their atoms). With the θ
        derivatives (``dh`` = ∂H_s/∂θ on-site per PL, ``dx``, ``da`` per atom):

            ∂h_i = ∂h_s,i + ∂A_i + ∂h_s,i X_i + h_i ∂X_i + ∂X_i† h_i + X_i† ∂h_s,i,
            ∂v_i = v_i ∂X_i + ∂X_{i−1}† v_i,

        the coupling derivatives going to :func:`tbmto.wfm.smatrix` as ``dv_slab``. X is block
        diagonal (18 × 18 per atom), so every product costs O(n² · 18), not O(n³).

        Parameters
        ----------
        b : HamiltonianBlocks
            Blocks of H_s at one k∥.
        x, a : ndarray (natoms, 18, 18)
            X and A of every atom of the Atoms object (lead PL atoms are taken from their
            source atoms, as for P^α).
        dh : list of ndarray, optional
            ∂H_s/∂θ per scattering PL (on-site, k independent).
        dx, da : ndarray (natoms, 18, 18), optional
            ∂X/∂θ, ∂A/∂θ per atom (zero for atoms that are not rotated).

        Returns
        -------
        blocks : HamiltonianBlocks
        dh_slab, dv_slab : list of ndarray or None
            ∂H/∂θ on-site blocks (M) and coupling blocks (M + 1), None without derivatives.
        """
        m = self.n_pl
        xs = [x[at] for at in self.pl_atoms]
        xl, xr = x[self.left_lead_atoms], x[self.right_lead_atoms]

        def cong(h, xa, xb):
            """h + h X_b + X_a† h for block-diagonal X_a (rows) and X_b (columns)."""
            return h + _bd_right(h, xb) + _bd_left_dagger(xa, h)

        h_slab = [cong(h, xi, xi) + block_diag(a[at])
                  for h, xi, at in zip(b.h_slab, xs, self.pl_atoms)]
        left_x = [xl] + xs
        right_x = xs + [xr]
        v_slab = [cong(v, xa, xb) for v, xa, xb in zip(b.v_slab, left_x, right_x)]
        h_left = cong(b.h_left, xl, xl) + block_diag(a[self.left_lead_atoms])
        v_left = cong(b.v_left, xl, xl)
        if b.h_right is b.h_left and np.array_equal(xl, xr):
            h_right, v_right = h_left, v_left
        else:
            h_right = cong(b.h_right, xr, xr) + block_diag(a[self.right_lead_atoms])
            v_right = cong(b.v_right, xr, xr)
        blocks = HamiltonianBlocks(h_left=h_left, v_left=v_left, h_slab=h_slab, v_slab=v_slab,
                                   h_right=h_right, v_right=v_right)
        if dh is None:
            return blocks, None, None
        dxs = [dx[at] for at in self.pl_atoms]
        dh_slab = []
        for i in range(m):
            hs, dhs = b.h_slab[i], dh[i]
            dh_slab.append(dhs + block_diag(da[self.pl_atoms[i]]) + _bd_right(dhs, xs[i])
                           + _bd_right(hs, dxs[i]) + _bd_left_dagger(dxs[i], hs)
                           + _bd_left_dagger(xs[i], dhs))
        zero_l = np.zeros_like(xl)
        zero_r = np.zeros_like(xr)
        dleft = [zero_l] + dxs
        dright = dxs + [zero_r]
        dv_slab = [_bd_right(v, dxb) + _bd_left_dagger(dxa, v)
                   for v, dxa, dxb in zip(b.v_slab, dleft, dright)]
        return blocks, dh_slab, dv_slab


def _info(atoms: Atoms, key: str):
    if key not in atoms.info:
        raise ValueError(f"atoms.info lacks {key!r}; build the structure with tbmto.structure.build_stack")
    return atoms.info[key]


def _pairs_in(positions, w, cell2d, cutoff, cluster_radius, alpha, reference=None) -> Pairs:
    kw = {} if reference is None else {"reference_positions": reference}
    return screened_pairs(positions, w, cell2d=cell2d, cutoff=cutoff, cluster_radius=cluster_radius,
                          alpha=alpha, **kw)


def _ideal_lead(ref: np.ndarray, t_pl: np.ndarray, n_pad: int, w, cell2d, cutoff, cluster_radius, alpha):
    """Onsite and PL → next-PL S^α pair tables of a perfect lead.

    PL q of the lead is ``ref + q t_pl`` (atom order of ``ref``); PLs −n_pad … 1 + n_pad are
    screened and h = S(PL 0, PL 0), v = S(PL 0, PL 1) kept.
    """
    nat = len(ref)
    qs = np.arange(-n_pad, 2 + n_pad)
    pos = (ref[None, :, :] + qs[:, None, None] * t_pl[None, None, :]).reshape(-1, 3)
    plq = np.repeat(qs, nat)
    local = np.tile(np.arange(nat), len(qs))
    pairs = _pairs_in(pos, w, cell2d, cutoff, cluster_radius, alpha)
    pi, pj = plq[pairs.i], plq[pairs.j]
    keep = (pi == 0) & ((pj == 0) | (pj == 1))
    return _BlockSum(
        [(nat, nat), (nat, nat)], pj[keep], local[pairs.i[keep]], local[pairs.j[keep]],
        pairs.shift[keep] @ cell2d, pairs.block[keep],
    )


def interaction_range(atoms: Atoms, cutoff: float) -> int:
    """Largest |Δℓ| (atomic layers) between atoms closer than ``cutoff`` (Å), lateral images
    included: the thickness of a principal layer for S^α pairs cut at ``cutoff``. Uses the
    ``ideal_positions`` array when present (the neighbour lists of the undisplaced lattice)."""
    from ase.neighborlist import neighbor_list

    layer = np.asarray(atoms.arrays["layer"], dtype=np.int64)
    if "ideal_positions" in atoms.arrays:
        atoms = atoms.copy()
        atoms.positions = atoms.arrays["ideal_positions"]
    i, j = neighbor_list("ij", atoms, float(cutoff) * (1 + 1e-12), self_interaction=False)
    if len(i) == 0:
        return 1
    return max(int(np.max(np.abs(layer[i] - layer[j]))), 1)


def build_layered_system(
    atoms: Atoms,
    w: float | None = None,
    cutoff: float | None = None,
    cluster_radius: float | None = None,
    alpha=SCREENING_ALPHA,
) -> LayeredSystem:
    """Screened S^α pairs and principal layers of a lead | slab | lead structure.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure from :func:`tbmto.structure.build_stack` (arrays ``layer``, ``region``;
        info ``cell2d``, ``supercell``, ``layer_spacing_angstrom``,
        ``layer_translation_angstrom``, ``lattice_constant_angstrom``). At least n_PL ideal
        lead layers (``lead_layers`` ≥ n_PL) must sit on each side of the slab.
    w : float, optional
        Average Wigner–Seitz radius (Å); default that of the stack's lattice (info ``lattice``, fcc when absent), :func:`tbmto.materials.wigner_seitz_radius`.
    cutoff, cluster_radius : float, optional
        S^α pair range and screening-cluster radius (Å); defaults 2.85 w and 3.8 w
        (``tbmto.lmto.structure_constants.PAIR_CUTOFF_W``, ``PAIR_CLUSTER_RADIUS_W``).
    alpha : sequence of 3 floats
        Screening constants.

    Returns
    -------
    LayeredSystem

    Notes
    -----
    The leads continue the first (last) n_PL atomic layers of the structure by the crystal
    translation T_PL = n_PL t + G (G the primitive in-plane lattice vector making the
    lateral part shortest; T_PL = n_PL d ẑ for fcc(001)), atom for atom: the lead PL next
    to the scattering region has exactly the atom order of the first (last) buffer PL.
    """
    for key in ("layer", "region"):
        if key not in atoms.arrays:
            raise ValueError(f"atoms lacks the per-atom array {key!r}; use tbmto.structure.build_stack")
    a = float(_info(atoms, "lattice_constant_angstrom"))
    cell2d = np.asarray(_info(atoms, "cell2d"), dtype=float)
    sc = np.asarray(_info(atoms, "supercell"), dtype=float).reshape(2, 1)
    d = float(_info(atoms, "layer_spacing_angstrom"))
    t = np.asarray(_info(atoms, "layer_translation_angstrom"), dtype=float)
    if w is None:
        w = wigner_seitz_radius(a, atoms.info.get("lattice", "fcc"))
    if not (w > 0):
        raise ValueError(f"w must be > 0 Å, got {w!r}")
    cutoff = PAIR_CUTOFF_W * w if cutoff is None else float(cutoff)
    cluster_radius = max(PAIR_CLUSTER_RADIUS_W * w, cutoff) if cluster_radius is None else float(cluster_radius)
    if not (cutoff > 0 and cluster_radius >= cutoff):
        raise ValueError(f"need 0 < cutoff <= cluster_radius, got cutoff={cutoff!r}, cluster_radius={cluster_radius!r}")

    layer = np.asarray(atoms.arrays["layer"], dtype=np.int64)
    region = np.asarray(atoms.arrays["region"], dtype=np.int64)
    lmin, lmax = int(layer.min()), int(layer.max())
    if np.unique(layer).size != lmax - lmin + 1:
        raise ValueError("atoms: atomic layer indices must be consecutive")
    slab_layers = np.unique(layer[region == 1])
    if slab_layers.size == 0:
        raise ValueError("atoms has no slab atoms (region == 1)")
    n_pl = interaction_range(atoms, cutoff)
    n_layers = lmax - lmin + 1
    sizes = principal_layer_sizes(n_layers, n_pl, int(slab_layers.max()) - lmin)
    if slab_layers.min() - lmin < n_pl or lmax - slab_layers.max() < n_pl:
        raise ValueError(
            f"atoms: need at least {n_pl} ideal lead layers (lead_layers) on each side of the "
            f"slab, the interaction range of S^alpha cut at {cutoff:.3f} Å"
        )
    # first / last buffer PL: atoms of the outermost n_pl layers, layer by layer
    order = np.lexsort((np.arange(len(atoms)), layer))
    first = order[layer[order] < lmin + n_pl]
    last = order[layer[order] > lmax - n_pl]
    if len(first) != len(last):
        raise ValueError("atoms: the two lead buffers must hold the same number of atoms per layer")
    # PL translation: n_pl t reduced by the primitive in-plane lattice vector nearest to it
    prim = cell2d / sc
    lat = n_pl * t[:2]
    frac = np.linalg.solve(prim[:, :2].T, lat)
    t_pl = np.array([*(lat - np.round(frac) @ prim[:, :2]), n_pl * d])

    # padded structure: scattering region + ideal lead PLs on both sides
    pos0 = atoms.positions
    n_pad = 1 + int(math.ceil(cluster_radius / (n_pl * d))) + 1
    q = np.arange(1, n_pad + 1)
    left_pad = (pos0[first][None] - q[::-1, None, None] * t_pl).reshape(-1, 3)
    right_pad = (pos0[last][None] + q[:, None, None] * t_pl).reshape(-1, 3)
    pos = np.vstack([left_pad, pos0, right_pad])
    lay = np.concatenate([
        (layer[first][None] - n_pl * q[::-1, None]).reshape(-1), layer,
        (layer[last][None] + n_pl * q[:, None]).reshape(-1),
    ])
    off = len(left_pad)
    reference = None
    if "ideal_positions" in atoms.arrays:
        ideal = np.asarray(atoms.arrays["ideal_positions"], dtype=float)
        if ideal.shape != pos0.shape:
            raise ValueError(f"atoms array 'ideal_positions' must have shape {pos0.shape}")
        reference = np.vstack([left_pad, ideal, right_pad])
    t0 = time.perf_counter()
    pairs = _pairs_in(pos, w, cell2d, cutoff, cluster_radius, alpha, reference)
    t_pairs = time.perf_counter() - t0
    rng = int(np.max(np.abs(lay[pairs.i] - lay[pairs.j])))
    if rng > n_pl:
        raise ValueError(f"S^alpha pairs couple atomic layers {rng} apart, more than the range {n_pl}")

    bounds = np.concatenate([[lmin], lmin + np.cumsum(sizes)])  # PL p: bounds[p] <= ℓ < bounds[p+1]
    m = len(sizes)
    # PL index of every padded atom: −1 left lead PL, M right lead PL, else −2 (ignored)
    pl = np.searchsorted(bounds, lay, side="right") - 1
    pl = np.where(lay < lmin, np.where(lay >= lmin - n_pl, -1, -2), pl)
    pl = np.where(lay > lmax, np.where(lay <= lmax + n_pl, m, -2), pl)
    members = {}
    for p in range(m):
        members[p] = order[pl[order + off] == p] + off
    members[-1] = np.arange(len(first)) + (n_pad - 1) * len(first)  # left pad PL q = 1
    members[m] = np.arange(len(last)) + off + len(atoms)  # right pad PL q = 1
    assert np.all(pl[members[-1]] == -1) and np.all(pl[members[m]] == m)
    local = np.full(len(lay), -1, dtype=np.int64)
    for p, idx in members.items():
        local[idx] = np.arange(len(idx))
    pi, pj = pl[pairs.i], pl[pairs.j]
    valid = (pi >= -1) & (pj >= -1)
    if np.any(valid & (np.abs(pi - pj) > 1)):
        raise ValueError("S^alpha couples non-neighbouring principal layers (internal error)")
    diag = valid & (pi == pj) & (pi >= 0) & (pi < m)
    upper = valid & (pj == pi + 1)
    sel = diag | upper
    bid = np.where(diag[sel], pi[sel], m + pj[sel])  # diag: p; coupling (p−1 → p): m + p
    shapes = [(len(members[p]), len(members[p])) for p in range(m)]
    shapes += [(len(members[p - 1]), len(members[p])) for p in range(0, m + 1)]
    scat = _BlockSum(shapes, bid, local[pairs.i[sel]], local[pairs.j[sel]],
                     pairs.shift[sel] @ cell2d, pairs.block[sel])
    pl_atoms = [members[p] - off for p in range(m)]

    # ideal leads: PL q of the left lead = first buffer PL − q T_PL, right = last + q T_PL
    n_pad_lead = int(math.ceil(cluster_radius / (n_pl * d))) + 1
    t0 = time.perf_counter()
    ref_l, ref_r = pos0[first] - t_pl, pos0[last] + t_pl
    left = _ideal_lead(ref_l, t_pl, n_pad_lead, w, cell2d, cutoff, cluster_radius, alpha)
    diff = ref_r - ref_l
    if np.all(np.abs(diff - diff[0]) < 1e-9):
        # the right lead PL is a rigid translate of the left one (same atom order): identical
        # blocks in the lattice-translation gauge, so both leads share one pair table and the
        # WFM engine can share the lead modes
        right = left
    else:
        right = _ideal_lead(ref_r, t_pl, n_pad_lead, w, cell2d, cutoff, cluster_radius, alpha)
    t_leads = time.perf_counter() - t0
    return LayeredSystem(
        cell2d=cell2d,
        n_pl_layers=n_pl,
        pl_atoms=pl_atoms,
        left_lead_atoms=first,
        right_lead_atoms=last,
        n_pairs=int(sel.sum()),
        t_pl=t_pl,
        _scat=scat,
        _left=left,
        _right=right,
        lead_positions=(ref_l, ref_r),
        timings={"salpha_pairs_s": t_pairs, "salpha_lead_pairs_s": t_leads,
                 "n_padded_atoms": int(len(pos))},
    )


KGRIDS = ("shifted", "gamma")
"""k∥ mesh types of :func:`kmesh`: half-step shifted, or Γ-centred."""


def kmesh(cell2d: np.ndarray, n: tuple[int, int], grid: str = "shifted") -> np.ndarray:
    """Uniform k∥ mesh of the 2D Brillouin zone of ``cell2d``.

    With B_a · A_b = 2π δ_ab and n = (n₁, n₂):

    * ``grid="shifted"`` (default): k = ((i + ½)/n₁) B₁ + ((j + ½)/n₂) B₂, i = 0 … n₁−1,
      j = 0 … n₂−1. Γ is never a mesh point, and the set is closed under k → −k (mod the
      reciprocal lattice) for every n.
    * ``grid="gamma"``: k = (i/n₁) B₁ + (j/n₂) B₂, i = −⌊(n₁−1)/2⌋ … ⌊n₁/2⌋ (j likewise), so
      n₁ n₂ points with Γ among them (single-k behaviour at Γ is visible in the sum). Modulo
      the reciprocal lattice the set is closed under k → −k for every n; the returned
      (unreduced) Cartesian points themselves are symmetric, −k being again a mesh point,
      exactly when n₁ and n₂ are odd (for even n the zone-boundary row i = n/2 has its
      partner −n/2 only up to a reciprocal lattice vector). With n₁ = n₂ = 2N − 1 it is the
      symmetric (2N−1)² mesh of the published TB-MTO transport code of the Twente group.

    Supercell folding: for both grids the mesh of an m × m supercell (lattice m A) with n × n
    points, unfolded by the supercell reciprocal vectors G = (a/m) B₁ + (b/m) B₂
    (a, b = 0 … m−1), is as a set (mod the primitive reciprocal lattice) the (m n) × (m n)
    mesh of the same grid type of the primitive cell, for every m and n. For the shifted grid
    this holds because the half-step offset is the same fraction of the mesh step in both
    meshes: (i + ½)/(m n) + a/m = (i + a n + ½)/(m n). No k → −k reduction is made.

    Parameters
    ----------
    cell2d : ndarray (2, 3)
        Lateral lattice vectors (Å).
    n : (int, int)
        Mesh size.
    grid : {"shifted", "gamma"}
        Mesh type, see above.

    Returns
    -------
    ndarray (n₁ n₂, 3)
        Cartesian k∥ in 1/Å (z = 0), in C order over (i, j).
    """
    if not isinstance(grid, str) or grid not in KGRIDS:
        raise ValueError(f"grid must be one of {KGRIDS!r}, got {grid!r}")
    try:
        n1, n2 = (int(x) for x in n)
    except (TypeError, ValueError):
        raise ValueError(f"kmesh must be a pair of positive integers, got {n!r}") from None
    if n1 < 1 or n2 < 1 or tuple(n) != (n1, n2):
        raise ValueError(f"kmesh must be a pair of positive integers, got {n!r}")
    A = np.asarray(cell2d, dtype=float)
    # reciprocal vectors in the plane of A: B = 2π (A A^T)^{-1} A
    B = 2.0 * np.pi * np.linalg.solve(A @ A.T, A)
    if grid == "shifted":
        f1 = (np.arange(n1) + 0.5) / n1
        f2 = (np.arange(n2) + 0.5) / n2
    else:
        f1 = np.arange(-((n1 - 1) // 2), n1 // 2 + 1) / n1
        f2 = np.arange(-((n2 - 1) // 2), n2 // 2 + 1) / n2
    g1, g2 = np.meshgrid(f1, f2, indexing="ij")
    return g1.reshape(-1, 1) * B[0] + g2.reshape(-1, 1) * B[1]
