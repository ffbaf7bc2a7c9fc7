"""Lead Bloch modes: dispersion, flux normalisation, current orthogonality, singular hopping."""

import numpy as np
import pytest

from tbmto.wfm import lead_modes
from tbmto.wfm.leads import current_form
from tbmto.wfm.models import chain_blocks, fold_cells, spinful_strip_blocks, strip_blocks


def _x(m, u, lam):
    """Stack (ψ_{j-1}; ψ_j) = (u; λu) for current-form evaluation."""
    return np.vstack([u, u * lam[None, :]])


@pytest.mark.parametrize("energy", [-1.7, -0.4, 0.9, 1.95])
def test_chain_velocity_is_2t_sin_k(energy):
    h, v = chain_blocks(t=1.3)
    m = lead_modes(h, v, energy)
    k = np.arccos(-energy / (2 * 1.3))
    assert m.n_modes == 1
    np.testing.assert_allclose(m.k_right, [k], atol=1e-10)
    np.testing.assert_allclose(m.k_left, [-k], atol=1e-10)
    np.testing.assert_allclose(m.vel_right, [2 * 1.3 * np.sin(k)], rtol=1e-10)
    np.testing.assert_allclose(m.vel_left, [-2 * 1.3 * np.sin(k)], rtol=1e-10)


def test_chain_outside_band_has_no_modes_and_decaying_bloch_matrix():
    h, v = chain_blocks()
    m = lead_modes(h, v, 2.5)
    assert m.n_modes == 0
    # right-decaying solution λ with λ + 1/λ = -E (t = 1), |λ| < 1
    lam = np.roots([1.0, 2.5, 1.0])
    lam_in = lam[np.abs(lam) < 1][0]
    np.testing.assert_allclose(m.f_right, [[lam_in]], rtol=1e-12)
    np.testing.assert_allclose(m.finv_left, [[lam_in]], rtol=1e-12)


@pytest.mark.parametrize("builder", ["strip", "folded", "spinful"])
def test_modes_solve_lead_equation_and_are_current_orthonormal(builder):
    if builder == "strip":
        h, v = strip_blocks(7)
    elif builder == "folded":
        h, v = fold_cells(*strip_blocks(5), p=3)
        assert np.linalg.matrix_rank(v) == 5  # singular inter-cell hopping (rank 5 of 15)
    else:
        h, v = spinful_strip_blocks(4, rashba=0.4, zeeman=(0.3, -0.2, 0.5))
    e = 0.37
    m = lead_modes(h, v, e)
    assert m.n_modes > 0
    for u, lam in ((m.u_right, m.lam_right), (m.u_left, m.lam_left)):
        np.testing.assert_allclose(np.abs(lam), 1.0, atol=1e-12)
        res = (e * np.eye(len(h)) - h) @ u - (v @ u) * lam - (v.conj().T @ u) / lam
        assert np.max(np.abs(res)) < 1e-9
    x = np.hstack([_x(m, m.u_right, m.lam_right), _x(m, m.u_left, m.lam_left)])
    j = current_form(v, x, x)
    expected = np.diag(np.r_[np.ones(m.n_modes), -np.ones(m.n_modes)])
    np.testing.assert_allclose(j, expected, atol=1e-9)


def test_bloch_matrices_reproduce_mode_propagation():
    h, v = fold_cells(*strip_blocks(4), p=2)
    e = -0.8
    m = lead_modes(h, v, e)
    np.testing.assert_allclose(m.f_right @ m.u_right, m.u_right * m.lam_right, atol=1e-10)
    np.testing.assert_allclose(m.finv_left @ m.u_left, m.u_left / m.lam_left, atol=1e-10)
    # the evanescent part: F+ solves the matrix quadratic v F^2 - (E - h) F + v^† = 0
    f = m.f_right
    res = v @ f @ f - (e * np.eye(len(h)) - h) @ f + v.conj().T
    assert np.max(np.abs(res)) < 1e-9


def test_real_lead_pairs_left_modes_as_complex_conjugates():
    h, v = strip_blocks(6)
    m = lead_modes(h, v, 0.2)
    np.testing.assert_allclose(m.u_left, m.u_right.conj(), atol=0)
    np.testing.assert_allclose(m.lam_left, m.lam_right.conj(), atol=0)


def test_degenerate_modes_are_current_diagonal():
    # two identical decoupled chains: every Bloch factor is doubly degenerate
    # (a Peierls phase makes the blocks complex, so the generic path is exercised)
    h = np.zeros((2, 2))
    v = -np.exp(0.3j) * np.eye(2)
    m = lead_modes(h, v, 0.5)
    assert m.n_modes == 2
    x = np.hstack([_x(m, m.u_right, m.lam_right), _x(m, m.u_left, m.lam_left)])
    np.testing.assert_allclose(current_form(v, x, x), np.diag([1, 1, -1, -1]), atol=1e-10)


def test_band_edge_energy_is_rejected():
    h, v = chain_blocks()
    with pytest.raises(ValueError, match="band edge"):
        lead_modes(h, v, 2.0)
