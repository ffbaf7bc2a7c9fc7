"""Canonical and screened structure constants (tbmto.lmto.structure_constants).

Reference numbers: shared/reference/lmto-conventions.md.
"""

from itertools import product
from math import sqrt

import numpy as np
import pytest

from tbmto.lmto.harmonics import rotation_matrix
from tbmto.lmto.structure_constants import (
    FCC_W_OVER_A,
    SCREENING_ALPHA,
    bloch_salpha,
    bloch_sum,
    bulk_pairs,
    canonical,
    screen_cluster,
)

A = 3.614  # Cu lattice constant, Å
W = FCC_W_OVER_A * A
FCC = 0.5 * A * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
RNG = np.random.default_rng(7)


def _shell_index(vectors, a=A):
    """fcc shell number n of d = a √(n/2)."""
    return np.rint(2.0 * np.sum(vectors**2, axis=-1) / a**2).astype(int)


def test_two_centre_table():
    """ssσ … ddδ along +z in units of (w/d)^(l+l'+1); row orbital at the origin."""
    d = 2.3
    w = 1.1
    s = canonical(np.array([0.0, 0.0, d]), w)
    x = w / d
    s_, y, z, px = 0, 1, 2, 3
    dxy, dyz, dz2, dxz, dx2 = 4, 5, 6, 7, 8
    table = {
        (s_, s_): (-2.0, 1),
        (s_, z): (2 * sqrt(3), 2),
        (z, z): (12.0, 3),
        (px, px): (-6.0, 3),
        (y, y): (-6.0, 3),
        (s_, dz2): (-2 * sqrt(5), 3),
        (z, dz2): (-6 * sqrt(15), 4),
        (px, dxz): (6 * sqrt(5), 4),
        (y, dyz): (6 * sqrt(5), 4),
        (dz2, dz2): (-60.0, 5),
        (dxz, dxz): (40.0, 5),
        (dyz, dyz): (40.0, 5),
        (dxy, dxy): (-10.0, 5),
        (dx2, dx2): (-10.0, 5),
    }
    expected = np.zeros((9, 9))
    for (a, b), (v, p) in table.items():
        expected[a, b] = v * x**p
        # column site at −d relative to the row: S⁰(d)ᵀ = S⁰(−d); (−1)^(l+l') for the swap
        la = int(np.sqrt(a))
        lb = int(np.sqrt(b))
        expected[b, a] = (-1) ** (la + lb) * v * x**p
    np.testing.assert_allclose(s, expected, atol=1e-12)


def test_transpose_symmetry_and_vectorisation():
    d = RNG.normal(size=(4, 5, 3))
    s = canonical(d, 0.8)
    assert s.shape == (4, 5, 9, 9)
    np.testing.assert_allclose(canonical(-d, 0.8), s.swapaxes(-1, -2), atol=1e-12)
    np.testing.assert_allclose(s[2, 3], canonical(d[2, 3], 0.8), atol=1e-14)


def test_cubic_symmetry_of_canonical_blocks(cubic_operations):
    """S⁰(R d) = D(R) S⁰(d) D(R)ᵀ for all 48 cubic operations."""
    d = np.array([0.9, -0.4, 1.7])
    s = canonical(d, 1.0)
    for rot in cubic_operations:
        dr = rotation_matrix(rot, 2)
        np.testing.assert_allclose(canonical(rot @ d, 1.0), dr @ s @ dr.T, atol=1e-12)


def test_fcc_screened_onsite_and_shell_maxima():
    pairs = bulk_pairs(FCC, np.zeros((1, 3)), W)
    vec = pairs.shift @ FCC
    shell = _shell_index(vec)
    assert sorted(np.bincount(shell)) == sorted([1, 12, 6, 24, 12, 24, 8, 48, 6])
    onsite = pairs.block[shell == 0][0]
    np.testing.assert_allclose(
        np.diag(onsite), [3.057, 2.738, 2.738, 2.738, 2.370, 2.370, 1.672, 2.370, 1.672],
        atol=1.5e-3,
    )
    np.testing.assert_allclose(onsite, np.diag(np.diag(onsite)), atol=1e-12)  # cubic site
    ref = [3.057, 2.515, 0.231, 7.7e-3, 8.8e-3, 1.0e-3, 2.8e-5, 6.0e-5, 1.2e-4]
    got = [np.abs(pairs.block[shell == n]).max() for n in range(9)]
    np.testing.assert_allclose(got, ref, rtol=0.05)


def test_unscreened_shell_maxima():
    """Unscreened S⁰ decays slowly: 2.45 at shell 1, 0.39 at shell 8."""
    d1 = canonical(FCC[0], W)
    d8 = canonical(np.array([2 * A, 0.0, 0.0]), W)
    assert abs(np.abs(d1).max() - 2.45) < 0.01
    assert abs(np.abs(d8).max() - 0.39) < 0.01


def test_cluster_convergence_trend():
    """Central-row error vs cluster radius: reference 6e−3/3e−2 (1 shell), 6e−5/2e−3 (2),
    7e−7/1.7e−5 (4 shells, 55 atoms), 1e−8/1.3e−7 (5 shells, 79 atoms)."""
    nn = 0.75 * A  # keep on-site and nearest-neighbour blocks
    ref = bulk_pairs(FCC, np.zeros((1, 3)), W, cutoff=nn, cluster_radius=2.6 * A)
    errs = []
    for nshell in (1, 2, 4, 5):
        radius = A * sqrt((nshell + 0.5) / 2)
        p = bulk_pairs(FCC, np.zeros((1, 3)), W, cutoff=nn, cluster_radius=radius)
        np.testing.assert_array_equal(p.shift, ref.shift)
        on = _shell_index(p.shift @ FCC) == 0
        errs.append(
            (np.abs(p.block[on] - ref.block[on]).max(), np.abs(p.block[~on] - ref.block[~on]).max())
        )
    errs = np.array(errs)
    expected = np.array([[6e-3, 3e-2], [6e-5, 2e-3], [7e-7, 1.7e-5], [1e-8, 1.3e-7]])
    # same order of magnitude as the reference, and monotonically decreasing
    assert np.all(np.abs(np.log10(errs / expected)) < 0.35), errs
    assert np.all(np.diff(errs, axis=0) < 0)


def test_screen_cluster_matches_centre_rows():
    """Full-cluster inversion (symmetric) agrees with the centre-row solve used for pairs."""
    lat = np.array([np.array(v) @ FCC for v in product(range(-2, 3), repeat=3)])
    lat = lat[np.linalg.norm(lat, axis=1) <= 3.8 * W]
    assert len(lat) == 55
    full = screen_cluster(lat, W)
    np.testing.assert_allclose(full, full.transpose(1, 0, 3, 2), atol=1e-10)
    p = bulk_pairs(FCC, np.zeros((1, 3)), W, cutoff=0.75 * A, cluster_radius=3.8 * W)
    centre = int(np.flatnonzero(np.all(lat == 0, axis=1))[0])
    for shift, block in zip(p.shift, p.block):
        j = int(np.flatnonzero(np.all(np.isclose(lat, shift @ FCC), axis=1))[0])
        # the symmetrised pair block averages row i→j and row j→i of the two clusters
        np.testing.assert_allclose(block, full[centre, j], atol=2e-5)


def test_bloch_salpha_hermitian_and_cubic(cubic_operations):
    k = RNG.normal(size=(5, 3))
    s = bloch_salpha(FCC, np.zeros((1, 3)), k, W)
    assert s.shape == (5, 9, 9)
    np.testing.assert_allclose(s, s.conj().transpose(0, 2, 1), atol=1e-12)
    pairs = bulk_pairs(FCC, np.zeros((1, 3)), W)
    np.testing.assert_allclose(bloch_sum(pairs, FCC, k, 1), s, atol=1e-13)
    for rot in cubic_operations:
        dr = rotation_matrix(rot, 2)
        sr = bloch_sum(pairs, FCC, k @ rot.T, 1)
        np.testing.assert_allclose(sr, dr @ s @ dr.T, atol=1e-10)


def test_bloch_salpha_supercell_folds_primitive():
    """Conventional 4-atom cubic cell at k = 0 has the primitive spectra at Γ and the X's."""
    cubic = A * np.eye(3)
    basis = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) * A
    k4 = bloch_salpha(cubic, basis, np.zeros(3), W, cutoff=0.75 * A)
    assert k4.shape == (1, 36, 36)
    kx = 2 * np.pi / A * np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    prim = bloch_salpha(FCC, np.zeros((1, 3)), kx, W, cutoff=0.75 * A)
    np.testing.assert_allclose(
        np.linalg.eigvalsh(k4[0]), np.sort(np.linalg.eigvalsh(prim).ravel()), atol=1e-9
    )


def test_bad_inputs():
    with pytest.raises(ValueError, match="w"):
        canonical(np.ones(3), -1.0)
    with pytest.raises(ValueError, match="d"):
        canonical(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="cell"):
        bloch_salpha(np.eye(3)[:2], np.zeros((1, 3)), np.zeros(3), W)
    with pytest.raises(ValueError, match="kpoints"):
        bloch_salpha(FCC, np.zeros((1, 3)), np.zeros((2, 2)), W)
    with pytest.raises(ValueError, match="cutoff"):
        bulk_pairs(FCC, np.zeros((1, 3)), W, cutoff=5.0, cluster_radius=4.0)
    with pytest.raises(ValueError, match="alpha"):
        bulk_pairs(FCC, np.zeros((1, 3)), W, alpha=(0.3, 0.05))
    with pytest.raises(ValueError, match="coincident"):
        screen_cluster(np.zeros((2, 3)), W)
    assert SCREENING_ALPHA == (0.3485, 0.05303, 0.010714)


def test_canonical_s_band_ewald():
    """S⁰_ss(k) = Σ_T≠0 e^{ik·T} S⁰_ss(T) by Ewald summation: 1.762 (X), 1.366 (L), 1.809 (W),
    1.769 (K). The real-space part uses canonical(); 1/|T| = [erfc + erf](η|T|)/|T|."""
    from scipy.special import erfc

    a = 1.0
    w = FCC_W_OVER_A * a
    cell = FCC / A * a
    rec = 2 * np.pi * np.linalg.inv(cell).T
    vol = abs(np.linalg.det(cell))
    n = np.array(list(product(range(-7, 8), repeat=3)))
    t = n @ cell
    t = t[np.linalg.norm(t, axis=1) > 0]
    g = n @ rec
    eta = 2.0
    s0 = canonical(t, w)[:, 0, 0]
    np.testing.assert_allclose(s0, -2 * w / np.linalg.norm(t, axis=1), rtol=1e-13)
    for kf, ref in (([1, 0, 0], 1.762), ([0.5, 0.5, 0.5], 1.366), ([1, 0.5, 0], 1.809),
                    ([0.75, 0.75, 0], 1.769)):
        k = 2 * np.pi / a * np.array(kf)
        real = np.sum(np.cos(t @ k) * s0 * erfc(eta * np.linalg.norm(t, axis=1)))
        kg = np.linalg.norm(k + g, axis=1)
        recip = -2 * w * 4 * np.pi / vol * np.sum(np.exp(-(kg**2) / (4 * eta**2)) / kg**2)
        self_term = 4 * w * eta / np.sqrt(np.pi)
        assert abs(real + recip + self_term - ref) < 6e-4
