"""Screened pairs for arbitrary positions (tbmto.lmto.structure_constants.screened_pairs)."""

import numpy as np
import pytest

from tbmto.lmto.structure_constants import (
    FCC_W_OVER_A,
    Pairs,
    bloch_salpha,
    bloch_sum,
    bulk_pairs,
    canonical,
    screened_pairs,
)

A = 3.614
W = FCC_W_OVER_A * A
FCC = 0.5 * A * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
A1 = np.array([A / 2, A / 2, 0.0])
A2 = np.array([-A / 2, A / 2, 0.0])


def fcc001_stack(n1, n2, nlayers):
    """fcc(001) layers (spacing a/2, ABAB) in an n1 × n2 lateral supercell."""
    ij = np.array([(i, j) for i in range(n1) for j in range(n2)])
    layer = ij[:, :1] * A1 + ij[:, 1:] * A2
    pos = [layer + (l % 2) * np.array([A / 2, 0, 0]) + np.array([0, 0, l * A / 2])
           for l in range(nlayers)]
    return np.concatenate(pos), np.array([n1 * A1, n2 * A2])


def _as_dict(p: Pairs):
    return {(int(i), int(j), *map(int, s)): b for i, j, s, b in zip(p.i, p.j, p.shift, p.block)}


def _assert_hermitian_set(p: Pairs):
    d = _as_dict(p)
    for (i, j, *s), b in d.items():
        partner = d[(j, i, *(-x for x in s))]
        np.testing.assert_array_equal(partner, b.T)


def test_bulk_slice_equals_bulk_pairs_and_bloch():
    """Interior atom of a laterally periodic fcc(001) stack: blocks = 3D bulk, and the
    lateral+vertical Bloch sum of its row equals bloch_salpha."""
    nl = 15
    pos, cell2d = fcc001_stack(1, 1, nl)
    p = screened_pairs(pos, W, cell2d)
    _assert_hermitian_set(p)
    mid = nl // 2
    row = p.i == mid
    vec = pos[p.j[row]] + p.shift[row] @ cell2d - pos[mid]
    bulk = bulk_pairs(FCC, np.zeros((1, 3)), W, cutoff=2.85 * W, cluster_radius=3.8 * W)
    bvec = bulk.shift @ FCC
    assert row.sum() == len(bvec) == 19  # on-site + 12 + 6
    for v, b in zip(vec, p.block[row]):
        k = np.flatnonzero(np.linalg.norm(bvec - v, axis=1) < 1e-9)
        assert len(k) == 1
        np.testing.assert_allclose(b, bulk.block[k[0]], atol=1e-12)
    k = np.random.default_rng(5).normal(size=(4, 3))
    phases = np.exp(1j * k @ vec.T)
    sk = np.einsum("kp,pab->kab", phases, p.block[row])
    ref = bloch_salpha(FCC, np.zeros((1, 3)), k, W, cutoff=2.85 * W, cluster_radius=3.8 * W)
    np.testing.assert_allclose(sk, ref, atol=1e-12)


def test_lateral_supercell_is_consistent():
    """2×2 lateral supercell gives the same blocks as the 1×1 cell for every pair."""
    pos1, c1 = fcc001_stack(1, 1, 6)
    pos2, c2 = fcc001_stack(2, 2, 6)
    p1 = screened_pairs(pos1, W, c1)
    p2 = screened_pairs(pos2, W, c2)
    ref = {}
    for i, j, s, b in zip(p1.i, p1.j, p1.shift, p1.block):
        v = pos1[j] + s @ c1 - pos1[i]
        ref[(int(i), tuple(np.round(v, 6)))] = b
    layer2 = np.repeat(np.arange(6), 4)
    for i, j, s, b in zip(p2.i, p2.j, p2.shift, p2.block):
        v = pos2[j] + s @ c2 - pos2[i]
        np.testing.assert_allclose(b, ref[(int(layer2[i]), tuple(np.round(v, 6)))], atol=1e-12)
    assert len(p2.i) == 4 * len(p1.i)


def test_finite_cluster_centre_row():
    """cell2d=None: the centre atom of an fcc ball sees the same cluster as in bulk."""
    pts = np.array([np.array(v) @ FCC for v in np.ndindex(9, 9, 9)]) - 4 * FCC.sum(axis=0)
    ball = pts[np.linalg.norm(pts, axis=1) <= 3.8 * W]
    assert len(ball) == 55
    p = screened_pairs(ball, W)
    assert p.shift.shape == (len(p.i), 2) and not p.shift.any()
    _assert_hermitian_set(p)
    centre = int(np.flatnonzero(np.linalg.norm(ball, axis=1) == 0)[0])
    on = (p.i == centre) & (p.j == centre)
    bulk = bulk_pairs(FCC, np.zeros((1, 3)), W, cutoff=0.1 * W, cluster_radius=3.8 * W)
    # only the on-site block is unaffected by the symmetrisation with truncated neighbours
    np.testing.assert_allclose(p.block[on][0], bulk.block[0], atol=1e-12)


def test_vanishing_displacement_reproduces_undisplaced():
    """Δ → 0: displacements of 1e−7 Å (above the 1e−8 w cache key resolution, so every
    cluster is screened separately) change the blocks by O(1e−7) only."""
    pos, cell2d = fcc001_stack(2, 2, 8)
    p0 = screened_pairs(pos, W, cell2d)
    u = np.random.default_rng(11).normal(size=pos.shape)
    p1 = screened_pairs(pos + 1e-7 * u, W, cell2d)
    np.testing.assert_array_equal(p0.i, p1.i)
    np.testing.assert_array_equal(p0.j, p1.j)
    np.testing.assert_array_equal(p0.shift, p1.shift)
    diff = np.abs(p1.block - p0.block).max()
    assert 0.0 < diff < 2e-6


def test_displacement_continuity_and_linear_response():
    """Blocks change linearly with small displacements (first-order in the amplitude)."""
    pos, cell2d = fcc001_stack(2, 2, 8)
    u = np.random.default_rng(12).normal(size=pos.shape)
    u /= np.linalg.norm(u, axis=1).max()
    p0 = screened_pairs(pos, W, cell2d)
    diffs = []
    for t in (1e-3, 2e-3, 4e-3):
        p = screened_pairs(pos + t * u, W, cell2d)
        np.testing.assert_array_equal(p.j, p0.j)
        diffs.append(p.block - p0.block)
    d1, d2, d4 = (np.abs(d).max() for d in diffs)
    assert 1e-4 < d1 < 0.05
    assert abs(d2 / d1 - 2) < 0.02 and abs(d4 / d2 - 2) < 0.02
    _assert_hermitian_set(screened_pairs(pos + 0.1 * u, W, cell2d))


def test_zero_alpha_gives_canonical_blocks():
    """α = 0 leaves S⁰ unscreened (LU fallback path)."""
    pos, cell2d = fcc001_stack(1, 1, 4)
    p = screened_pairs(pos, W, cell2d, alpha=(0.0, 0.0, 0.0))
    off = ~((p.i == p.j) & ~p.shift.any(axis=1))
    vec = pos[p.j] + p.shift @ cell2d - pos[p.i]
    np.testing.assert_allclose(p.block[off], canonical(vec[off], W), atol=1e-12)
    np.testing.assert_allclose(p.block[~off], 0.0, atol=1e-14)


def test_bloch_sum_of_laterally_periodic_pairs_is_hermitian():
    pos, cell2d = fcc001_stack(2, 1, 6)
    p = screened_pairs(pos + 0.05 * np.random.default_rng(2).normal(size=pos.shape), W, cell2d)
    kpar = np.array([[0.3, -0.2, 0.0], [0.0, 0.0, 0.0]])
    h = bloch_sum(p, cell2d, kpar, len(pos))
    assert h.shape == (2, 9 * len(pos), 9 * len(pos))
    np.testing.assert_allclose(h, h.conj().transpose(0, 2, 1), atol=1e-13)
    np.testing.assert_allclose(h[1].imag, 0.0, atol=1e-14)


def test_bad_inputs():
    pos, cell2d = fcc001_stack(1, 1, 3)
    with pytest.raises(ValueError, match="cell2d"):
        screened_pairs(pos, W, cell2d[:1])
    with pytest.raises(ValueError, match="cell2d"):
        screened_pairs(pos, W, np.array([A1, 2 * A1]))
    with pytest.raises(ValueError, match="cutoff"):
        screened_pairs(pos, W, cell2d, cutoff=6.0, cluster_radius=5.0)
    with pytest.raises(ValueError, match="cluster_radius"):
        screened_pairs(pos, W, cell2d, cluster_radius=-1.0)
    with pytest.raises(ValueError, match="positions"):
        screened_pairs(pos[:, :2], W, cell2d)
    with pytest.raises(ValueError, match="coincident"):
        screened_pairs(np.vstack([pos, pos[:1]]), W, cell2d)


def test_reference_positions_fix_the_neighbour_list():
    """Neighbour lists from the undisplaced lattice: same pair set for any displacement,
    blocks smooth; equal to the plain call when no pair crosses a cutoff."""
    pos, cell2d = fcc001_stack(2, 2, 8)
    rng = np.random.default_rng(21)
    u = rng.normal(size=pos.shape)
    small = screened_pairs(pos + 0.02 * u, W, cell2d)
    fixed = screened_pairs(pos + 0.02 * u, W, cell2d, reference_positions=pos)
    for f in ("i", "j", "shift", "block"):
        np.testing.assert_array_equal(getattr(fixed, f), getattr(small, f))
    # large displacements: the plain pair set changes, the referenced one does not
    big = pos + 0.25 * u
    plain = screened_pairs(big, W, cell2d)
    ref = screened_pairs(big, W, cell2d, reference_positions=pos)
    p0 = screened_pairs(pos, W, cell2d)
    assert len(plain.i) != len(p0.i) or np.any(plain.j != p0.j)
    for f in ("i", "j", "shift"):
        np.testing.assert_array_equal(getattr(ref, f), getattr(p0, f))
    _assert_hermitian_set(ref)
    with pytest.raises(ValueError, match="reference_positions"):
        screened_pairs(pos, W, cell2d, reference_positions=pos[:-1])
