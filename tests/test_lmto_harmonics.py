"""Real harmonics, real Gaunt coefficients and rotation matrices (tbmto.lmto.harmonics)."""

from itertools import permutations
from math import pi, sqrt

import numpy as np
import pytest
from scipy.special import sph_harm_y

from tbmto.lmto.harmonics import (
    angular_quadrature,
    l_of_index,
    real_gaunt,
    real_harmonics,
    rotation_matrix,
)

RNG = np.random.default_rng(1234)


def _random_dirs(n):
    v = RNG.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1)[:, None]


def test_explicit_cartesian_forms_l_le_2():
    """Order s, p_y, p_z, p_x, d_xy, d_yz, d_z², d_xz, d_x²−y², all Cartesian forms positive."""
    u = _random_dirs(50)
    r = u * RNG.uniform(0.3, 4.0, size=(50, 1))  # only the direction matters
    x, y, z = u.T
    expected = np.stack(
        [
            np.full_like(x, 1 / sqrt(4 * pi)),
            sqrt(3 / (4 * pi)) * y,
            sqrt(3 / (4 * pi)) * z,
            sqrt(3 / (4 * pi)) * x,
            sqrt(15 / (4 * pi)) * x * y,
            sqrt(15 / (4 * pi)) * y * z,
            sqrt(5 / (16 * pi)) * (3 * z * z - 1),
            sqrt(15 / (4 * pi)) * x * z,
            sqrt(15 / (16 * pi)) * (x * x - y * y),
        ],
        axis=-1,
    )
    np.testing.assert_allclose(real_harmonics(r, 2), expected, atol=1e-14)


def test_condon_shortley_relation_to_complex_harmonics():
    """Y_{l,m>0} = √2(−1)^m Re Y_l^m, Y_{l,m<0} = √2(−1)^m Im Y_l^|m| for l ≤ 4 (scipy)."""
    u = _random_dirs(40)
    theta = np.arccos(u[:, 2])
    phi = np.arctan2(u[:, 1], u[:, 0])
    yr = real_harmonics(u, 4)
    for l in range(5):
        for m in range(-l, l + 1):
            yc = sph_harm_y(l, abs(m), theta, phi)
            if m == 0:
                ref = yc.real
            elif m > 0:
                ref = sqrt(2) * (-1) ** m * yc.real
            else:
                ref = sqrt(2) * (-1) ** m * yc.imag
            np.testing.assert_allclose(yr[:, l * l + l + m], ref, atol=1e-12)


def test_orthonormal_and_shape():
    pts, w = angular_quadrature(12)
    assert abs(w.sum() - 4 * pi) < 1e-12
    y = real_harmonics(pts, 6)
    assert y.shape == (len(pts), 49)
    np.testing.assert_allclose(np.einsum("q,qa,qb->ab", w, y, y), np.eye(49), atol=1e-13)
    assert real_harmonics(np.ones((2, 5, 3)), 3).shape == (2, 5, 16)


def test_poles_are_regular():
    y = real_harmonics(np.array([[0.0, 0.0, 2.0], [0.0, 0.0, -1.0]]), 4)
    for l in range(5):
        for m in range(-l, l + 1):
            if m != 0:
                assert np.all(y[:, l * l + l + m] == 0.0)
        np.testing.assert_allclose(y[:, l * l + l], [sqrt((2 * l + 1) / (4 * pi)),
                                                     (-1) ** l * sqrt((2 * l + 1) / (4 * pi))])


def test_gaunt_is_the_product_expansion():
    """Y_L Y_L' = Σ_L'' G(L, L', L'') Y_L'' pointwise (the product has degree ≤ 4)."""
    g = real_gaunt(2, 2, 4)
    u = _random_dirs(30)
    y2 = real_harmonics(u, 2)
    y4 = real_harmonics(u, 4)
    lhs = y2[:, :, None] * y2[:, None, :]
    rhs = np.einsum("abc,qc->qab", g, y4)
    np.testing.assert_allclose(rhs, lhs, atol=1e-13)


def test_gaunt_symmetry_and_selection_rules():
    g = real_gaunt(4, 4, 4)
    for perm in permutations(range(3)):
        np.testing.assert_allclose(g.transpose(perm), g, atol=1e-14)
    np.testing.assert_allclose(g[0], np.eye(25) / sqrt(4 * pi), atol=1e-14)
    lv = l_of_index(4)
    l1, l2, l3 = np.meshgrid(lv, lv, lv, indexing="ij")
    forbidden = ((l1 + l2 + l3) % 2 == 1) | (l3 > l1 + l2) | (l3 < abs(l1 - l2))
    assert np.all(g[forbidden] == 0.0)
    assert np.count_nonzero(g[~forbidden]) > 0


def test_rotation_matrices_transform_harmonics(cubic_operations):
    u = _random_dirs(20)
    axis = np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5])
    t = 0.7
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    generic = np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * k @ k
    for rot in cubic_operations[:6] + [generic]:
        d = rotation_matrix(rot, 3)
        np.testing.assert_allclose(d @ d.T, np.eye(16), atol=1e-13)
        np.testing.assert_allclose(real_harmonics(u @ rot.T, 3), real_harmonics(u, 3) @ d.T,
                                   atol=1e-13)


@pytest.mark.parametrize(
    "bad",
    [np.zeros(3), np.ones((4, 2)), np.array([np.nan, 0.0, 1.0])],
)
def test_bad_input_raises(bad):
    with pytest.raises(ValueError, match="r"):
        real_harmonics(bad)


def test_bad_lmax_raises():
    with pytest.raises(ValueError, match="lmax"):
        real_harmonics(np.ones(3), -1)
    with pytest.raises(ValueError, match="rotation"):
        rotation_matrix(np.ones((3, 3)))
