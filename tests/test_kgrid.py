"""k∥ meshes of :func:`tbmto.layers.kmesh`: shifted (default) and Γ-centred grids.

Checks the point sets, Γ, k → −k closure, the unchanged default, and supercell folding:
the m × m supercell mesh with n × n points, unfolded by G = (a/m) B₁ + (b/m) B₂, is the
(m n) × (m n) primitive mesh of the same grid type (mod the primitive reciprocal lattice).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from tbmto.layers import kmesh
from tbmto.structure import build_stack

DIRECTIONS = ("001", "111")
GRIDS = ("shifted", "gamma")


@functools.lru_cache(maxsize=None)
def _cell2d(direction: str, m: int = 1) -> np.ndarray:
    st = build_stack(direction=direction, supercell=(m, m), layers=2, lattice_constant=3.6,
                     composition={"Cu": 1.0}, lead="Cu")
    return np.asarray(st.info["cell2d"], dtype=float)


def _recip(A: np.ndarray) -> np.ndarray:
    return 2.0 * np.pi * np.linalg.solve(A @ A.T, A)


def _frac(k: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Fractional coordinates of k in the reciprocal basis of A (A_b · k = 2π f_b)."""
    return k @ A.T / (2.0 * np.pi)


def _grid_indices(k: np.ndarray, A: np.ndarray, M: int, offset: float) -> list[tuple[int, int]]:
    """k → sorted integer labels I with f = (I + offset)/M mod 1; fails if k is off that grid."""
    x = _frac(k, A) * M - offset
    idx = np.rint(x)
    assert np.max(np.abs(x - idx)) < 1e-9, "point is not on the expected grid"
    idx = np.mod(idx.astype(int), M)
    return sorted(map(tuple, idx))


def _unfold(A: np.ndarray, m: int, n: int, grid: str, As: np.ndarray | None = None) -> np.ndarray:
    """Supercell (lattice m A) mesh n × n, unfolded by the supercell reciprocal vectors."""
    As = m * A if As is None else As
    B = _recip(A)
    ks = kmesh(As, (n, n), grid=grid)
    G = np.array([(a / m) * B[0] + (b / m) * B[1] for a in range(m) for b in range(m)])
    return (ks[:, None, :] + G[None, :, :]).reshape(-1, 3)


# ---------------------------------------------------------------- basic mesh properties


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("n", [(1, 1), (2, 3), (4, 4), (5, 5), (7, 2)])
def test_point_count_and_in_plane(grid, n):
    A = _cell2d("111")
    k = kmesh(A, n, grid=grid)
    assert k.shape == (n[0] * n[1], 3)
    assert np.all(k[:, 2] == 0.0)
    # all points distinct mod the reciprocal lattice (labels on the half-step grid)
    f = _frac(k, A)
    lab = {(int(round(f[i, 0] * n[0] * 2)) % (2 * n[0]), int(round(f[i, 1] * n[1] * 2)) % (2 * n[1]))
           for i in range(len(k))}
    assert len(lab) == n[0] * n[1]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("n", [(1, 1), (3, 3), (4, 5), (6, 6), (9, 9)])
def test_gamma_contains_gamma_once(direction, n):
    k = kmesh(_cell2d(direction), n, grid="gamma")
    assert np.sum(np.linalg.norm(k, axis=1) < 1e-12) == 1


@pytest.mark.parametrize("n", [(1, 1), (2, 2), (4, 6), (5, 5)])
def test_shifted_never_contains_gamma(n):
    A = _cell2d("001")
    f = _frac(kmesh(A, n), A)
    assert np.min(np.abs(f - np.rint(f)).max(axis=1)) > 1e-6


def _closed_under_inversion(k: np.ndarray, A: np.ndarray, n: tuple[int, int]) -> bool:
    f = _frac(k, A) * np.asarray(n) * 2  # integer labels on the half-step grid
    lab = np.rint(f).astype(int) % (2 * np.asarray(n))
    neg = (-np.rint(f).astype(int)) % (2 * np.asarray(n))
    return set(map(tuple, lab)) == set(map(tuple, neg))


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("N", [1, 2, 3, 5])
def test_gamma_odd_closed_under_inversion(direction, N):
    A = _cell2d(direction)
    n = (2 * N - 1, 2 * N - 1)
    k = kmesh(A, n, grid="gamma")
    assert len(k) == (2 * N - 1) ** 2
    assert _closed_under_inversion(k, A, n)
    # also explicitly: every −k is k' + integer combination of B
    B = _recip(A)
    for q in -k:
        d = _frac(k - q, A)
        assert np.any(np.all(np.abs(d - np.rint(d)) < 1e-9, axis=1))
    assert np.max(np.abs(k.sum(axis=0))) < 1e-12 * np.abs(B).max() * len(k)


def _literally_symmetric(k: np.ndarray) -> bool:
    """−k is again one of the returned Cartesian points (no reduction by the lattice)."""
    return all(np.min(np.linalg.norm(k - q, axis=1)) < 1e-12 for q in -k)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("n", [(1, 1), (3, 3), (5, 7), (9, 9)])
def test_gamma_odd_points_literally_symmetric(direction, n):
    assert _literally_symmetric(kmesh(_cell2d(direction), n, grid="gamma"))


@pytest.mark.parametrize("n", [(2, 2), (4, 4), (2, 3), (3, 6)])
def test_gamma_even_closed_mod_lattice_but_not_literally(n):
    """Even n: closed under k → −k only up to G (the zone-boundary row i = n/2)."""
    A = _cell2d("001")
    k = kmesh(A, n, grid="gamma")
    assert _closed_under_inversion(k, A, n)
    assert not _literally_symmetric(k)


@pytest.mark.parametrize("n", [(1, 1), (2, 2), (3, 4), (5, 5)])
def test_shifted_closed_under_inversion(n):
    A = _cell2d("111")
    assert _closed_under_inversion(kmesh(A, n), A, n)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("n", [(1, 1), (3, 5), (8, 8)])
def test_shifted_default_unchanged(direction, n):
    A = _cell2d(direction)
    B = 2.0 * np.pi * np.linalg.solve(A @ A.T, A)
    ref = np.array([((i + 0.5) / n[0]) * B[0] + ((j + 0.5) / n[1]) * B[1]
                    for i in range(n[0]) for j in range(n[1])])
    k = kmesh(A, n)
    np.testing.assert_allclose(k, ref, rtol=0, atol=1e-13)  # same order (C over i, j)
    assert np.array_equal(k, kmesh(A, n, grid="shifted"))


def test_gamma_formula_and_order():
    A = _cell2d("111")
    n = (4, 5)
    B = _recip(A)
    ref = np.array([(i / 4) * B[0] + (j / 5) * B[1] for i in range(-1, 3) for j in range(-2, 3)])
    np.testing.assert_allclose(kmesh(A, n, grid="gamma"), ref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("bad", ["Gamma", "monkhorst", "", None, 1])
def test_unknown_grid_raises(bad):
    with pytest.raises(ValueError) as exc:
        kmesh(_cell2d("001"), (3, 3), grid=bad)
    msg = str(exc.value)
    assert "grid" in msg and repr(bad) in msg
    assert "shifted" in msg and "gamma" in msg


# ---------------------------------------------------------------- supercell folding


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("m,n", [(1, 3), (2, 1), (2, 2), (2, 3), (3, 2), (3, 3), (4, 5)])
def test_supercell_folding(direction, grid, m, n):
    A = _cell2d(direction)
    M = m * n
    offset = 0.5 if grid == "shifted" else 0.0
    unfolded = _unfold(A, m, n, grid)
    prim = kmesh(A, (M, M), grid=grid)
    assert len(unfolded) == len(prim) == M * M
    # same multiset of points modulo the primitive reciprocal lattice
    assert _grid_indices(unfolded, A, M, offset) == _grid_indices(prim, A, M, offset)
    assert len(set(_grid_indices(prim, A, M, offset))) == M * M


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("m", [2, 3])
def test_supercell_folding_build_stack_cell(direction, m):
    """The same with the supercell lattice built by build_stack(supercell=(m, m))."""
    A = _cell2d(direction)
    As = _cell2d(direction, m)
    np.testing.assert_allclose(As, m * A, atol=1e-12)
    for grid, offset in (("shifted", 0.5), ("gamma", 0.0)):
        n = 3
        unfolded = _unfold(A, m, n, grid, As=As)
        prim = kmesh(A, (m * n, m * n), grid=grid)
        assert _grid_indices(unfolded, A, m * n, offset) == _grid_indices(prim, A, m * n, offset)


def test_shifted_folding_m2_explicit():
    """The old docstring claim for m = 2: 2 × 2 supercell, n = 2, vs the 4 × 4 primitive mesh."""
    A = _cell2d("001")
    f_unf = np.sort(np.round(np.mod(_frac(_unfold(A, 2, 2, "shifted"), A), 1.0), 12), axis=0)
    f_pr = np.sort(np.round(np.mod(_frac(kmesh(A, (4, 4)), A), 1.0), 12), axis=0)
    np.testing.assert_allclose(f_unf, f_pr, atol=1e-12)
    assert set(np.round(f_pr[:, 0] * 8).astype(int)) == {1, 3, 5, 7}


def test_folding_needs_the_same_grid_type():
    """Sanity of the check: the unfolded gamma mesh is not the shifted primitive mesh."""
    A = _cell2d("001")
    unfolded = _unfold(A, 2, 3, "gamma")
    x = _frac(unfolded, A) * 6 - 0.5
    assert np.max(np.abs(x - np.rint(x))) > 0.4


# ---------------------------------------------------------------- physical folding check


def _fourier_function(A: np.ndarray, rng: np.random.Generator, rmax: int):
    """f(k) = Σ_R c_R e^{i k·R}, R = p A₁ + q A₂, |p|, |q| ≤ rmax: periodic in the primitive BZ."""
    pq = np.array([(p, q) for p in range(-rmax, rmax + 1) for q in range(-rmax, rmax + 1)])
    R = pq @ A
    c = rng.normal(size=len(R)) + 1j * rng.normal(size=len(R))
    return (lambda k: np.exp(1j * k @ R.T) @ c), pq, c


def _band_function(A: np.ndarray):
    """A smooth, non-trivial periodic f: Fermi occupation of a two-neighbour tight-binding band."""
    R = np.array([A[0], A[1], A[0] + A[1], A[0] - A[1], 2 * A[0]])
    t = np.array([1.0, 0.7, 0.3, 0.2, 0.1])

    def f(k):
        eps = -2.0 * np.cos(k @ R.T) @ t
        return 1.0 / (1.0 + np.exp((eps - 0.3) / 0.2))

    return f


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("m,n", [(2, 2), (2, 3), (3, 3)])
def test_folded_sum_equals_primitive_sum(direction, grid, m, n):
    A = _cell2d(direction)
    M = m * n
    rng = np.random.default_rng(1234 + 10 * m + n)
    # Fourier terms up to |p| = 2M so that aliased terms (p ≡ 0 mod M) contribute
    f, pq, c = _fourier_function(A, rng, 2 * M)
    s_super = f(_unfold(A, m, n, grid)).sum()
    s_prim = f(kmesh(A, (M, M), grid=grid)).sum()
    np.testing.assert_allclose(s_super, s_prim, rtol=1e-10, atol=1e-9)
    # and both equal the analytic lattice sum: Σ_I e^{2πi (I+s) p/M} = M (−1)^{p/M·2s} δ_{p ≡ 0}
    s = 0.5 if grid == "shifted" else 0.0
    w = np.ones(len(pq), dtype=complex)
    for col in range(2):
        p = pq[:, col]
        w *= np.where(p % M == 0, M * np.exp(2j * np.pi * s * p / M), 0.0)
    np.testing.assert_allclose(s_prim, (w * c).sum(), rtol=1e-10, atol=1e-9)
    assert abs(s_prim - M * M * c[len(c) // 2]) > 1e-3  # aliased terms do contribute

    g = _band_function(A)
    np.testing.assert_allclose(g(_unfold(A, m, n, grid)).sum(), g(kmesh(A, (M, M), grid=grid)).sum(),
                               rtol=1e-12)


def test_gamma_and_shifted_sums_differ():
    """The two grids are different quadratures: the check above is not vacuous."""
    A = _cell2d("001")
    g = _band_function(A)
    a = g(kmesh(A, (4, 4), grid="gamma")).mean()
    b = g(kmesh(A, (4, 4), grid="shifted")).mean()
    assert abs(a - b) > 1e-6
