"""On-site potential functions with SOC and spin rotation (tbmto.lmto.potential_functions)."""

import numpy as np
import pytest
from scipy.linalg import expm

from tbmto.lmto.hamiltonian import orthogonal_hamiltonian_soc
from tbmto.lmto.harmonics import angular_quadrature, l_of_index, real_harmonics, rotation_matrix
from tbmto.lmto.potential_functions import (
    angular_momentum_matrices,
    ls_matrix,
    onsite_p,
    onsite_p_dtheta,
)
from tbmto.lmto.structure_constants import FCC_W_OVER_A, SCREENING_ALPHA, bloch_salpha

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])
RNG = np.random.default_rng(42)
L9 = l_of_index(2)


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _rotation(axis, angle):
    n = _unit(axis)
    k = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _su2(axis, angle):
    n = _unit(axis)
    return expm(-0.5j * angle * np.einsum("a,ast->st", n, PAULI))


def _params(nat, spin_split=0.05):
    """Ni-like spin-polarised parameters (natoms, 2, 3)."""
    c = np.array([-0.35, 0.55, -0.28]) + RNG.normal(scale=0.01, size=(nat, 1, 3))
    c = np.concatenate([c, c + spin_split * np.array([0.1, 0.1, 1.0])], axis=1)
    sd = np.array([0.40, 0.39, 0.09]) * (1 + RNG.normal(scale=0.02, size=(nat, 2, 3)))
    g = np.array([0.40, 0.11, -0.004]) + RNG.normal(scale=0.002, size=(nat, 2, 3))
    xi = np.tile([0.0, 0.015, 0.0075], (nat, 1)) * (1 + RNG.uniform(size=(nat, 1)))
    m = _unit(RNG.normal(size=(nat, 3)))
    return c, sd, g, xi, m


def test_angular_momentum_matrices_against_harmonics():
    """⟨Y_a| −i (r × ∇) |Y_b⟩ by quadrature with finite-difference gradients."""
    lmat = angular_momentum_matrices()
    assert np.all(lmat.real == 0)
    pts, w = angular_quadrature(6)
    h = 1e-5
    grad = np.stack(
        [(real_harmonics(pts + h * e, 2) - real_harmonics(pts - h * e, 2)) / (2 * h)
         for e in np.eye(3)],
        axis=1,
    )  # (q, c, L)
    rxg = np.cross(pts[:, :, None], grad, axis=1)  # (q, a, L)
    y = real_harmonics(pts, 2)
    ref = -1j * np.einsum("q,qa,qcb->cab", w, y, rxg)
    np.testing.assert_allclose(lmat, ref, atol=1e-8)
    comm = lmat[0] @ lmat[1] - lmat[1] @ lmat[0]
    np.testing.assert_allclose(comm, 1j * lmat[2], atol=1e-13)
    l2 = np.einsum("aij,ajk->ik", lmat, lmat)
    np.testing.assert_allclose(l2, np.diag(L9 * (L9 + 1.0)), atol=1e-13)


def test_ls_spectrum_and_order():
    ls = ls_matrix()
    np.testing.assert_allclose(ls, ls.conj().T, atol=0)
    assert np.all(ls.real[:9, :9] == 0)  # L purely imaginary: S_z block is imaginary
    for l in range(3):
        idx = np.concatenate([np.flatnonzero(L9 == l), 9 + np.flatnonzero(L9 == l)])
        ev = np.linalg.eigvalsh(ls[np.ix_(idx, idx)])
        expected = sorted([-(l + 1) / 2] * (2 * l) + [l / 2] * (2 * l + 2))
        np.testing.assert_allclose(ev, expected, atol=1e-13)
    # spin-major: ↑↑ block = L_z/2
    np.testing.assert_allclose(ls[:9, :9], 0.5 * angular_momentum_matrices()[2], atol=0)


def test_ls_invariant_under_joint_rotation():
    """(U_s ⊗ D(R)) L·S (U_s ⊗ D(R))† = L·S: L transforms as a vector of the harmonics."""
    axis, angle = np.array([0.3, -0.5, 0.8]), 0.9
    w = np.kron(_su2(axis, angle), rotation_matrix(_rotation(axis, angle), 2))
    np.testing.assert_allclose(w @ ls_matrix() @ w.conj().T, ls_matrix(), atol=1e-12)


def test_scalar_limit():
    c, sd, g, xi, _ = _params(3)
    m = np.tile([0.0, 0.0, 1.0], (3, 1))
    e = -0.1
    p = onsite_p(e, c, sd, g, xi, m, soc=False)
    alpha = np.array(SCREENING_ALPHA)
    ref = (e - c) / (sd**2 + (g - alpha) * (e - c))  # (nat, 2, 3)
    expected = np.stack([np.diag(ref[a][:, L9].reshape(-1)) for a in range(3)])
    np.testing.assert_allclose(p, expected, atol=1e-13)


def test_spin_block_diagonal_for_m_along_z_without_soc():
    c, sd, g, xi, _ = _params(2)
    m = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])
    p = onsite_p(0.05, c, sd, g, xi, m, soc=False)
    assert np.all(p[:, :9, 9:] == 0) and np.all(p[:, 9:, :9] == 0)
    # m = −z swaps the spin channels
    swapped = onsite_p(0.05, c[1:, ::-1], sd[1:, ::-1], g[1:, ::-1], xi[1:], m[:1], soc=False)[0]
    np.testing.assert_allclose(p[1], swapped, atol=1e-13)
    # with SOC, spin-flip blocks appear
    assert np.abs(onsite_p(0.05, c, sd, g, xi, m)[:, :9, 9:]).max() > 1e-3


def test_rotation_is_unitary_similarity():
    c, sd, g, xi, m = _params(3)
    axis, angle = np.array([1.0, -2.0, 0.5]), 1.1
    rot = _rotation(axis, angle)
    us = _su2(axis, angle)
    e = -0.05
    # no SOC: rotate the spin basis only
    p = onsite_p(e, c, sd, g, xi, m, soc=False)
    pr = onsite_p(e, c, sd, g, xi, m @ rot.T, soc=False)
    ws = np.kron(us, np.eye(9))
    np.testing.assert_allclose(pr, ws @ p @ ws.conj().T, atol=1e-11)
    # SOC: spin and orbitals rotate together
    p = onsite_p(e, c, sd, g, xi, m)
    pr = onsite_p(e, c, sd, g, xi, m @ rot.T)
    wj = np.kron(us, rotation_matrix(rot, 2))
    np.testing.assert_allclose(pr, wj @ p @ wj.conj().T, atol=1e-11)
    # and SOC makes the spin-only rotation a non-similarity (magnetic anisotropy)
    assert np.abs(pr - ws @ p @ ws.conj().T).max() > 1e-4


def test_zero_xi_equals_no_soc_and_hermitian():
    c, sd, g, xi, m = _params(4)
    e = 0.02
    np.testing.assert_allclose(onsite_p(e, c, sd, g, 0 * xi, m),
                               onsite_p(e, c, sd, g, xi, m, soc=False), atol=1e-14)
    p = onsite_p(e, c, sd, g, xi, m)
    assert p.shape == (4, 18, 18)
    np.testing.assert_allclose(p, p.conj().transpose(0, 2, 1), atol=1e-12)
    z = 0.02 + 0.01j
    np.testing.assert_allclose(onsite_p(np.conj(z), c, sd, g, xi, m),
                               onsite_p(z, c, sd, g, xi, m).conj().transpose(0, 2, 1),
                               atol=1e-12)


def test_batched_equals_single_atoms():
    c, sd, g, xi, m = _params(5)
    p = onsite_p(-0.2, c, sd, g, xi, m)
    for a in range(5):
        pa = onsite_p(-0.2, c[a:a + 1], sd[a:a + 1], g[a:a + 1], xi[a:a + 1], m[a:a + 1])
        np.testing.assert_allclose(p[a], pa[0], atol=1e-14)


@pytest.mark.parametrize("soc", [True, False])
def test_dtheta_against_finite_differences(soc):
    c, sd, g, xi, m = _params(4)
    axes = _unit(np.cross(m, RNG.normal(size=(4, 3))))  # per-atom axis ⊥ m
    e = -0.08
    dp = onsite_p_dtheta(e, c, sd, g, xi, m, axes, soc=soc)
    h = 1e-4
    mp = np.stack([_rotation(n, h) @ v for n, v in zip(axes, m)])
    mm = np.stack([_rotation(n, -h) @ v for n, v in zip(axes, m)])
    fd = (onsite_p(e, c, sd, g, xi, mp, soc=soc) - onsite_p(e, c, sd, g, xi, mm, soc=soc)) / (2 * h)
    assert np.abs(dp).max() > 1e-2
    np.testing.assert_allclose(dp, fd, atol=1e-7 * np.abs(dp).max())
    np.testing.assert_allclose(dp, dp.conj().transpose(0, 2, 1), atol=1e-12)
    # common axis (3,) broadcasts
    x = np.array([1.0, 0.0, 0.0])
    mz = np.tile([0.0, 0.0, 1.0], (4, 1))
    d1 = onsite_p_dtheta(e, c, sd, g, xi, mz, x, soc=soc)
    d2 = onsite_p_dtheta(e, c, sd, g, xi, mz, np.tile(x, (4, 1)), soc=soc)
    np.testing.assert_array_equal(d1, d2)


def test_dtheta_vanishes_without_spin_polarisation():
    c, sd, g, xi, m = _params(2, spin_split=0.0)
    c[:, 1], sd[:, 1], g[:, 1] = c[:, 0], sd[:, 0], g[:, 0]
    dp = onsite_p_dtheta(0.1, c, sd, g, xi, m, _unit(np.cross(m, [0.0, 0.0, 1.0])))
    np.testing.assert_allclose(dp, 0.0, atol=1e-14)


def test_secular_equation_matches_soc_hamiltonian():
    """det(P^α(E) − S^α(Γ) ⊗ 1) = 0 at the Cu Γ₈⁺, Γ₇⁺ eigenvalues of the SOC Hamiltonian;
    spin-polarised along z as well."""
    a = 3.614
    w = FCC_W_OVER_A * a
    cell = 0.5 * a * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    s = bloch_salpha(cell, np.zeros((1, 3)), np.array([[0.3, 0.1, -0.2]]), w)
    c = np.array([[[-0.4269, 0.5683, -0.3003], [-0.4069, 0.5783, -0.2503]]])
    sd = np.array([[[0.4082, 0.3970, 0.09534], [0.4052, 0.3950, 0.09834]]])
    g = np.array([[[0.4222, 0.1115, -0.00384], [0.4202, 0.1105, -0.00284]]])
    xi = np.array([[0.0, 0.01, 0.00837]])
    h = orthogonal_hamiltonian_soc(s, c, sd, g, xi)[0]
    for e in np.linalg.eigvalsh(h)[:12]:
        p = onsite_p(e, c, sd, g, xi, np.array([[0.0, 0.0, 1.0]]))[0]
        sv = np.linalg.svd(p - np.kron(np.eye(2), s[0]), compute_uv=False)
        assert sv[-1] < 1e-9 * sv[0]


def test_bad_inputs():
    c, sd, g, xi, m = _params(2)
    with pytest.raises(ValueError, match="C"):
        onsite_p(0.0, c[:, 0], sd, g, xi, m)
    with pytest.raises(ValueError, match="sqrt_delta"):
        onsite_p(0.0, c, sd[:1], g, xi, m)
    with pytest.raises(ValueError, match="m"):
        onsite_p(0.0, c, sd, g, xi, 2 * m)
    with pytest.raises(ValueError, match="xi"):
        onsite_p(0.0, c, sd, g, xi[:, :2], m)
    with pytest.raises(ValueError, match="energy"):
        onsite_p(np.array([0.0, 1.0]), c, sd, g, xi, m)
    with pytest.raises(ValueError, match="axis"):
        onsite_p_dtheta(0.0, c, sd, g, xi, m, np.array([2.0, 0.0, 0.0]))
