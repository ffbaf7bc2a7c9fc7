"""S-matrix physics: known transmissions, unitarity, reciprocity, folding invariance."""

import dataclasses

import numpy as np
import pytest

from tbmto.wfm import lead_modes, smatrix, smatrix_from_modes
from tbmto.wfm.models import (
    chain_blocks,
    fold_cells,
    open_channels_strip,
    spinful_strip_blocks,
    strip_blocks,
    time_reversal_operator,
)


def _unitarity(s):
    return np.max(np.abs(s.conj().T @ s - np.eye(len(s))), initial=0.0)


def _disordered(h, n_layers, strength, rng):
    return [h + np.diag(rng.uniform(-strength, strength, len(h))) for _ in range(n_layers)]


@pytest.mark.parametrize("energy", [-1.9, -0.6, 0.0, 1.2, 1.99])
def test_clean_chain_transmits_fully_inside_band(energy):
    h, v = chain_blocks()
    res = smatrix(h, v, [h] * 4, [v] * 5, h, v, energy=energy)
    assert res.n_left == res.n_right == 1
    assert res.transmission() == pytest.approx(1.0, abs=1e-12)
    assert abs(res.r[0, 0]) < 1e-12


@pytest.mark.parametrize("energy", [-2.3, 2.01, 3.5])
def test_chain_outside_band_has_no_channels(energy):
    h, v = chain_blocks()
    res = smatrix(h, v, [h] * 3, [v] * 4, h, v, energy=energy)
    assert res.S.shape == (0, 0)
    assert res.transmission() == 0.0


@pytest.mark.parametrize("eps", [0.3, 1.5])
@pytest.mark.parametrize("energy", [-1.4, 0.2, 1.5])
def test_single_impurity_matches_analytic(eps, energy):
    # T(E) = 1 / (1 + (eps / (2 t sin k))^2), E = -2t cos k
    t = 0.8
    h, v = chain_blocks(t)
    res = smatrix(h, v, [h, np.array([[eps]]), h], [v] * 4, h, v, energy=energy)
    k = np.arccos(-energy / (2 * t))
    expected = 1.0 / (1.0 + (eps / (2 * t * np.sin(k))) ** 2)
    assert res.transmission() == pytest.approx(expected, rel=1e-11)
    assert _unitarity(res.S) < 1e-12


def test_strip_conductance_steps_equal_open_channels():
    width = 5
    h, v = strip_blocks(width)
    for energy in np.linspace(-3.85, 3.85, 23):
        res = smatrix(h, v, [h] * 2, [v] * 3, h, v, energy=energy)
        n_open = open_channels_strip(width, energy)
        assert res.n_left == res.n_right == n_open
        assert res.transmission() == pytest.approx(n_open, abs=1e-10)
        assert _unitarity(res.S) < 1e-10


def test_disordered_strip_unitary_and_reciprocal():
    rng = np.random.default_rng(7)
    h, v = strip_blocks(6)
    hs = _disordered(h, 12, 1.5, rng)
    res = smatrix(h, v, hs, [v] * 13, h, v, energy=0.45)
    assert 0.0 < res.transmission() < res.n_left
    assert _unitarity(res.S) < 1e-10
    # real symmetric H + time-reversal-partner mode basis: S = S^T
    assert np.max(np.abs(res.S - res.S.T)) < 1e-10


def test_singular_hopping_two_site_cell_matches_chain():
    # two-site cell coupled by one site only: v = [[0,0],[-t,0]] (rank 1)
    h1, v1 = chain_blocks()
    h2, v2 = fold_cells(h1, v1, 2)
    assert np.linalg.matrix_rank(v2) == 1
    eps = 0.9
    for energy in (-1.1, 0.35, 1.7):
        ref = smatrix(h1, v1, [h1, np.array([[eps]]), h1, h1], [v1] * 5, h1, v1, energy=energy)
        # same 4 sites as two 2-site cells, impurity on the second site
        layers = [np.diag([0.0, eps]) + h2, h2]
        res = smatrix(h2, v2, layers, [v2] * 3, h2, v2, energy=energy)
        assert res.n_left == 1
        assert res.transmission() == pytest.approx(ref.transmission(), rel=1e-11)
        assert _unitarity(res.S) < 1e-11


def test_folding_invariance_of_disordered_strip_with_rank_deficient_hopping():
    rng = np.random.default_rng(3)
    h, v = strip_blocks(4)
    layers = _disordered(h, 6, 2.0, rng)
    ref = smatrix(h, v, layers, [v] * 7, h, v, energy=-0.7)
    hf, vf = fold_cells(h, v, 2)
    folded = []
    for a, b in zip(layers[0::2], layers[1::2]):
        blk, _ = fold_cells(a, v, 2)
        blk[4:, 4:] = b
        folded.append(blk)
    res = smatrix(hf, vf, folded, [vf] * 4, hf, vf, energy=-0.7)
    assert res.n_left == ref.n_left
    assert res.transmission() == pytest.approx(ref.transmission(), rel=1e-10)
    # the reflection probabilities per channel are basis independent here (non-degenerate k)
    np.testing.assert_allclose(
        np.sort(np.abs(np.linalg.eigvals(res.r @ res.r.conj().T))),
        np.sort(np.abs(np.linalg.eigvals(ref.r @ ref.r.conj().T))), atol=1e-10)


def test_different_lead_block_sizes_folded_right_lead():
    # left lead: one column per cell; right lead: the same lattice with 3 columns per cell
    rng = np.random.default_rng(11)
    h, v = strip_blocks(5)
    layers = _disordered(h, 5, 1.0, rng)
    ref = smatrix(h, v, layers, [v] * 6, h, v, energy=0.6)
    hr, vr = fold_cells(h, v, 3)
    v_last = np.zeros((5, 15))
    v_last[:, :5] = v
    res = smatrix(h, v, layers, [v] * 5 + [v_last], hr, vr, energy=0.6)
    assert (res.n_left, res.n_right) == (ref.n_left, ref.n_right)
    assert res.transmission() == pytest.approx(ref.transmission(), rel=1e-10)
    assert _unitarity(res.S) < 1e-10


def test_taper_to_wider_right_lead():
    # width 3 -> 4 -> 5 -> 6 -> lead of width 6; layer blocks all differ
    widths = [3, 4, 5, 6]
    energy = 0.3
    h_l, v_l = strip_blocks(3)
    h_r, v_r = strip_blocks(6)
    hs = [strip_blocks(w)[0] for w in widths]
    vs = []
    for a, b in zip([3] + widths, widths + [6]):
        c = np.zeros((a, b))
        c[np.arange(min(a, b)), np.arange(min(a, b))] = -1.0
        vs.append(c)
    res = smatrix(h_l, v_l, hs, vs, h_r, v_r, energy=energy)
    assert res.n_left == open_channels_strip(3, energy)
    assert res.n_right == open_channels_strip(6, energy)
    assert res.S.shape == (res.n_left + res.n_right,) * 2
    assert _unitarity(res.S) < 1e-10
    assert res.transmission() <= min(res.n_left, res.n_right) + 1e-12
    assert np.max(np.abs(res.S - res.S.T)) < 1e-10
    # T_LR = T_RL for a two-terminal conductor
    assert np.sum(np.abs(res.t_prime) ** 2) == pytest.approx(res.transmission(), rel=1e-10)


def test_spinful_rashba_zeeman_clean_and_disordered():
    h, v = spinful_strip_blocks(4, rashba=0.35, zeeman=(0.2, 0.1, 0.4))
    clean = smatrix(h, v, [h] * 3, [v] * 4, h, v, energy=0.55)
    assert clean.transmission() == pytest.approx(clean.n_left, abs=1e-10)
    rng = np.random.default_rng(5)
    layers = [h + np.kron(np.diag(rng.uniform(-1.5, 1.5, 4)), np.eye(2)) for _ in range(10)]
    res = smatrix(h, v, layers, [v] * 11, h, v, energy=0.55)
    assert 0 < res.transmission() < res.n_left
    assert _unitarity(res.S) < 1e-10
    # no time-reversal symmetry: S is not symmetric in any basis of this kind
    assert np.max(np.abs(np.abs(res.S) - np.abs(res.S.T))) > 1e-3


def test_time_reversal_relates_plus_and_minus_field():
    # S(-B) = S(B)^T in the basis Θ-mapped from the modes at +B (Θ = (1⊗iσ_y) K)
    width, energy, b = 3, -0.45, (0.25, -0.3, 0.45)
    mb = tuple(-x for x in b)
    rng = np.random.default_rng(9)
    pot = [np.kron(np.diag(rng.uniform(-1.2, 1.2, width)), np.eye(2)) for _ in range(6)]
    h_p, v_p = spinful_strip_blocks(width, rashba=0.3, zeeman=b)
    h_m, v_m = spinful_strip_blocks(width, rashba=0.3, zeeman=mb)
    y = time_reversal_operator(width)
    np.testing.assert_allclose(h_m, y @ h_p.conj() @ y.conj().T, atol=1e-14)
    np.testing.assert_allclose(v_m, y @ v_p.conj() @ y.conj().T, atol=1e-14)
    lead_p = lead_modes(h_p, v_p, energy)
    lead_m = dataclasses.replace(
        lead_modes(h_m, v_m, energy),
        lam_right=lead_p.lam_left.conj(), u_right=y @ lead_p.u_left.conj(),
        lam_left=lead_p.lam_right.conj(), u_left=y @ lead_p.u_right.conj(),
    )
    s_p = smatrix_from_modes(lead_p, lead_p, [h_p + p for p in pot], [v_p] * 7).S
    s_m = smatrix_from_modes(lead_m, lead_m, [h_m + p for p in pot], [v_m] * 7).S
    assert np.max(np.abs(s_p - s_p.T)) > 1e-3  # B breaks reciprocity of S itself
    np.testing.assert_allclose(s_m, s_p.T, atol=1e-10)
    # the gauge-free consequences: T_LR(B) = T_RL(-B), |S_ij(B)|^2 = |S_ji(-B)|^2
    res_m = smatrix(h_m, v_m, [h_m + p for p in pot], [v_m] * 7, h_m, v_m, energy=energy)
    n = res_m.n_left
    assert np.sum(np.abs(s_p[n:, :n]) ** 2) == pytest.approx(np.sum(np.abs(res_m.t_prime) ** 2), rel=1e-10)


def test_thousand_layer_disordered_slab_stays_unitary():
    rng = np.random.default_rng(1)
    h, v = strip_blocks(3)
    layers = _disordered(h, 1000, 1.0, rng)
    res = smatrix(h, v, layers, [v] * 1001, h, v, energy=0.3)
    assert _unitarity(res.S) < 1e-9
    assert res.transmission() < 1e-3 * res.n_left  # localised: exponentially small T


def test_lead_without_modes_gives_well_defined_smaller_s():
    # left lead shifted out of the band at this energy: n_left = 0, S = r' unitary
    h, v = strip_blocks(3)
    h_l = h + 10.0 * np.eye(3)
    res = smatrix(h_l, v, [h] * 2, [v] * 3, h, v, energy=0.1)
    assert res.n_left == 0 and res.n_right == open_channels_strip(3, 0.1)
    assert res.S.shape == (res.n_right, res.n_right)
    assert res.t.shape == (res.n_right, 0)
    assert res.transmission() == 0.0
    assert _unitarity(res.S) < 1e-10


def _cylinder(width, k, onsite):
    """Periodic strip (cylinder) of ``width`` sites, transverse Bloch phase e^{ik}."""
    h = np.diag(onsite).astype(complex)
    for y in range(width):
        yn = (y + 1) % width
        phase = np.exp(1j * k) if yn == 0 else 1.0
        h[y, yn] += -phase
        h[yn, y] += -np.conj(phase)
    return h, -np.eye(width, dtype=complex)


def test_transverse_supercell_folding_invariance():
    # a 2W cylinder at K with W-periodic disorder equals the sum of the two W cylinders
    # at k = K/2 and K/2 + π (the 1×1 vs 2×1 lateral supercell check of DESIGN §5.1)
    rng = np.random.default_rng(17)
    width, layers, energy, kk = 3, 5, 0.4, 0.7
    pots = [rng.uniform(-1.5, 1.5, width) for _ in range(layers)]
    h2, v2 = _cylinder(2 * width, kk, np.zeros(2 * width))
    big = smatrix(h2, v2, [h2 + np.diag(np.tile(p, 2)) for p in pots], [v2] * (layers + 1),
                  h2, v2, energy=energy)
    total, modes = 0.0, 0
    for k in (kk / 2, kk / 2 + np.pi):
        h1, v1 = _cylinder(width, k, np.zeros(width))
        res = smatrix(h1, v1, [h1 + np.diag(p) for p in pots], [v1] * (layers + 1), h1, v1, energy=energy)
        total += res.transmission()
        modes += res.n_left
    assert big.n_left == modes
    assert big.transmission() == pytest.approx(total, rel=1e-10)
