"""TB-LMTO-ASA coherent potential approximation (tbmto.asa.cpa) and the CPA alloy SCF.

Exact statements: the O_h star reduction of the Brillouin-zone sum is exact for the irrep
traces; an ordered limit (one species, or identical species) is the band k-sum, for the Green's
function at any z and for the Fermi–Dirac weighted moments of the supercell band program; the
CPA condition is met at every contour point; the DOS integrates to the valence charge.
Physics: Ni80Fe20 species moments against the Twente group's public layer-CPA potentials
(Ni 0.629 μB, Fe 2.612 μB at a = 3.541 Å), the screened-impurity option, dilute Fe in Ni.
"""

import numpy as np
import pytest

from tbmto.asa import scf
from tbmto.asa.bands import band_moments, diagonalise, fermi_level
from tbmto.asa.cpa import (IRREP_L, CPABands, auxiliary_gf, cubic_kpoints, potential_functions,
                           solve_cpa, species_gf)
from tbmto.lmto.hamiltonian import orthogonal_hamiltonian
from tbmto.lmto.structure_constants import bloch_salpha
from tbmto.materials import wigner_seitz_radius

A_CU = 3.614
FCC = 0.5 * A_CU * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])


@pytest.fixture(scope="module")
def ni():
    """Self-consistent fcc Ni parameters (C, Δ, γ, E_ν of shape (2, 3))."""
    d = scf("Ni", "fcc", 3.524, kmesh=10, progress=False)
    sp = d["species"]["Ni"]
    arr = {k: np.array([sp[key]["up"], sp[key]["down"]]) for k, key in
           (("C", "C_Ry"), ("sd", "sqrt_delta_Ry"), ("gamma", "gamma"))}
    arr["e_nu"] = np.array([d["provenance"]["species_details"]["Ni"]["e_nu_Ry"][s] for s in ("up", "down")])
    return arr


def test_star_reduction_is_exact_for_irrep_traces():
    n = 8
    k1 = (np.arange(n) + 0.5) / n - 0.5
    grid = np.stack(np.meshgrid(k1, k1, k1, indexing="ij"), -1).reshape(-1, 3) * 4 * np.pi / A_CU
    w = wigner_seitz_radius(A_CU, "fcc")
    full = bloch_salpha(FCC, np.zeros((1, 3)), grid, w)
    k, wk = cubic_kpoints("fcc", A_CU, 6.35)                 # the same n = 8 grid
    assert len(k) < len(grid) / 20 and wk.sum() == pytest.approx(1.0)
    red = bloch_salpha(FCC, np.zeros((1, 3)), k, w)
    rng = np.random.default_rng(1)
    for _ in range(3):
        p = rng.normal(size=4) + 1j * (0.05 + rng.random(4))
        g_full = auxiliary_gf(p, full, np.full(len(grid), 1.0 / len(grid)))
        assert np.allclose(auxiliary_gf(p, red, wk), g_full, atol=1e-13)


def test_ordered_limit_is_the_band_green_function(ni):
    k, wk = cubic_kpoints("fcc", 3.524, 10)
    s = bloch_salpha(0.5 * 3.524 * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]]), np.zeros((1, 3)), k,
                     wigner_seitz_radius(3.524, "fcc"))
    z = np.array([-0.1 + 0.02j, 0.2 + 0.3j, -0.5 + 0.05j])
    for spin in range(2):
        C, d, g = ni["C"][spin][None], ni["sd"][spin][None] ** 2, ni["gamma"][spin][None]
        P, _, _ = potential_functions(z, C, d, g)
        P = np.moveaxis(P[..., IRREP_L], 0, 1)
        _, _, g_q, it = solve_cpa(P, np.array([1.0]), s, wk)
        assert it == 1
        G = species_gf(z, {"C": C, "delta": d, "gamma": g}, g_q)[0]
        e, u = np.linalg.eigh(orthogonal_hamiltonian(s, ni["C"][spin], ni["sd"][spin], ni["gamma"][spin]))
        l9 = np.array([0, 1, 1, 1, 2, 2, 2, 2, 2])
        band = np.array([[np.einsum("k,kn,kn->", wk, (np.abs(u[:, l9 == lq, :]) ** 2).sum(1), 1 / (zz - e))
                          for lq in range(3)] for zz in z])
        assert np.allclose(G, band, rtol=1e-11, atol=1e-12)


def test_ordered_moments_equal_the_band_program_and_integrate_to_the_valence(ni):
    cb = CPABands.build("fcc", 3.524, [1.0], [10.0], 12, 0.005)
    mu, m0, m1, m2 = cb.moments(ni["C"][None], (ni["sd"] ** 2)[None], ni["gamma"][None], ni["e_nu"][None])
    e, p = diagonalise(cb.salpha_k, ni["C"][None], ni["sd"][None], ni["gamma"][None])
    mu_b = fermi_level(e, cb.weights, 10.0, 0.005)
    b0, b1, b2 = band_moments(e, p, cb.weights, mu_b, 0.005, ni["e_nu"][None])
    assert mu == pytest.approx(mu_b, abs=1e-8)
    assert np.allclose(m0, b0, atol=1e-7) and np.allclose(m1, b1, atol=1e-7) and np.allclose(m2, b2, atol=1e-7)
    assert m0.sum() == pytest.approx(10.0, abs=1e-8)


def test_identical_species_are_the_element_and_zero_concentration_is_the_host(ni):
    k, wk = cubic_kpoints("fcc", 3.524, 8)
    s = bloch_salpha(0.5 * 3.524 * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]]), np.zeros((1, 3)), k,
                     wigner_seitz_radius(3.524, "fcc"))
    z = np.array([-0.05 + 0.01j, 0.1 + 0.2j])
    C, d, g = ni["C"][0], ni["sd"][0] ** 2, ni["gamma"][0]
    P, _, _ = potential_functions(z, C[None], d[None], g[None])
    P = np.moveaxis(P[..., IRREP_L], 0, 1)
    p_el, g_el, _, _ = solve_cpa(P, np.array([1.0]), s, wk)
    p_two, g_two, gq_two, _ = solve_cpa(np.concatenate([P, P]), np.array([0.3, 0.7]), s, wk)
    assert np.allclose(p_two, p_el, atol=1e-12) and np.allclose(gq_two[1], g_el, atol=1e-12)
    other = P * 1.1 + 0.05
    p_host, _, gq, _ = solve_cpa(np.concatenate([P, other]), np.array([1.0, 0.0]), s, wk)
    assert np.allclose(p_host, p_el, atol=1e-12) and np.allclose(gq[0], g_el, atol=1e-12)
    # a real alloy meets the CPA condition sum_Q c_Q g_Q = g
    pc, g_aux, gq, it = solve_cpa(np.concatenate([P, other]), np.array([0.6, 0.4]), s, wk)
    assert it > 1 and np.allclose(0.6 * gq[0] + 0.4 * gq[1], g_aux, rtol=1e-9)


def test_bad_cpa_options():
    with pytest.raises(ValueError, match="cpa_kmesh"):
        scf({"Ni": 0.8, "Fe": 0.2}, cpa_kmesh=1, progress=False)
    with pytest.raises(ValueError, match="cpa_screening"):
        scf({"Ni": 0.8, "Fe": 0.2}, cpa_screening=-1.0, progress=False)
    with pytest.raises(ValueError, match="lattice"):
        cubic_kpoints("hcp", 3.0, 8)


@pytest.mark.slow
def test_permalloy_cpa_moments_against_the_layer_cpa_reference():
    # Twente layer-CPA potentials of Ni80Fe20 at a = 3.541 Å: Ni 0.629 μB, Fe 2.612 μB
    d = scf({"Ni": 0.8, "Fe": 0.2}, "fcc", 3.541, progress=False)
    assert d["provenance"]["settings"]["alloy_model"] == "cpa"
    sp = d["species"]
    assert sp["Ni"]["moment_muB"] == pytest.approx(0.629, abs=0.05)
    assert sp["Fe"]["moment_muB"] == pytest.approx(2.612, abs=0.1)
    assert sp["Fe"]["site_fraction"] == 0.2
    total = sum(c * (np.sum(sp[el]["charges"]["up"]) + np.sum(sp[el]["charges"]["down"]))
                for el, c in (("Ni", 0.8), ("Fe", 0.2)))
    assert total == pytest.approx(0.8 * 10 + 0.2 * 8, abs=1e-6)
    assert d["provenance"]["seconds"] < 120
    # the screened-impurity term pulls charge back: Fe loses less, E_F hardly moves
    scr = scf({"Ni": 0.8, "Fe": 0.2}, "fcc", 3.541, cpa_screening=0.6, progress=False)
    dq = {m["provenance"]["settings"]["cpa_screening"]: m["provenance"]["species_details"]["Fe"]["net_charge_e"]
          for m in (d, scr)}
    assert 0 < dq[0.6] < dq[None]
    assert scr["fermi_energy_Ry"] == pytest.approx(d["fermi_energy_Ry"], abs=2e-3)


@pytest.mark.slow
def test_cpa_dilute_fe_in_ni():
    # 1 % Fe in Ni: impossible in a 32-site supercell, fine in the CPA; Fe high-spin and parallel
    # (the Ni(1-x)Cu(x) collapse and the other Slater–Pauling checks of the CPA: test_slater_pauling)
    d = scf({"Ni": 0.99, "Fe": 0.01}, "fcc", 3.524, progress=False)
    assert d["species"]["Fe"]["moment_muB"] > 2.4 and d["species"]["Ni"]["moment_muB"] == pytest.approx(0.62, abs=0.05)
    assert d["species"]["Fe"]["site_fraction"] == 0.01
