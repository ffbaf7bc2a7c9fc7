"""LSDA-ASA self-consistency: fcc Cu against the reference table, magnetic elements, alloys.

Reference numbers: shared/reference/asa-reference.md (independent prototype, and the published
RS-LMTO-ASA values it quotes): fcc Cu at 3.614 Å, d channel E_F − C = 0.2106 Ry (published
0.211), √Δ_d = 0.0940 (published 0.0953), ξ_d = 8.36 mRy; fcc Ni at 3.524 Å, 0.62–0.63 μB,
C_d↓ − C_d↑ ≈ 47 mRy.
"""

import json

import numpy as np
import pytest

from tbmto.asa import scf, write_potentials
from tbmto.potentials import load as load_potentials

RY_EV = 13.605693


@pytest.fixture(scope="module")
def cu():
    return scf("Cu", kmesh=10, progress=False)


def test_cu_nonmagnetic_and_reference_parameters(cu):
    sp = cu["species"]["Cu"]
    ef = cu["fermi_energy_Ry"]
    assert cu["provenance"]["converged"] is True
    assert abs(sp["moment_muB"]) < 1e-6
    c_d = sp["C_Ry"]["up"][2]
    sd = np.array(sp["sqrt_delta_Ry"]["up"])
    # d channel: E_F − C within a few mRy of the reference, √Δ within 2 %
    assert ef - c_d == pytest.approx(0.2106, abs=4e-3)
    assert sd[2] == pytest.approx(0.0953, rel=0.02)
    assert sd[:2] == pytest.approx([0.408, 0.397], rel=0.02)
    # d band centre 2–5 eV below E_F, d charge ≈ 9.5, total 11
    assert 2.0 < (ef - c_d) * RY_EV < 5.0
    q = np.array(sp["charges"]["up"]) + np.array(sp["charges"]["down"])
    assert q.sum() == pytest.approx(11.0, abs=1e-6)
    assert q[2] == pytest.approx(9.51, abs=0.05)
    # SOC of the 3d shell
    assert sp["xi_Ry"][2] == pytest.approx(0.00836, abs=3e-4)
    assert sp["xi_Ry"][0] == 0.0


def test_cu_file_roundtrip(cu, tmp_path):
    path = tmp_path / "sub" / "Cu.json"
    write_potentials(cu, path)
    back = json.loads(path.read_text())
    assert back == json.loads(json.dumps(cu))
    assert not list(path.parent.glob("*.tmp"))
    loaded = load_potentials(path)
    assert "Cu" in loaded.species


def test_unconverged_files_are_refused(cu, tmp_path):
    bad = json.loads(json.dumps(cu))
    bad["provenance"]["converged"] = False
    with pytest.raises(ValueError, match="converged"):
        write_potentials(bad, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_nonconvergence_raises():
    with pytest.raises(RuntimeError, match="did not converge"):
        scf("Cu", kmesh=4, max_iter=2, progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(composition="Xx"), "unknown element"),
        (dict(composition={"Ni": 0.8, "Xx": 0.2}), "unknown element"),
        (dict(composition="Cu", lattice="hcp"), "lattice"),
        (dict(composition="Cu", a=12.0), "sensible range"),
        (dict(composition={"Ni": 0.8, "Fe": 0.3}), "sum to 1"),
        (dict(composition={"Ni": 1.2, "Fe": -0.2}), "must lie in"),
        (dict(composition="Cu", kmesh=0), "kmesh"),
        (dict(composition="Cu", smearing_Ry=-1.0), "smearing_Ry"),
        (dict(composition="Xe"), "explicitly"),
        (dict(composition={"Ni": 0.99, "Fe": 0.01}, alloy_model="supercell"), r"round\(s\) to 0 of the 32 sites"),
        (dict(composition={"Ni": 0.8, "Fe": 0.2}, alloy_model="vca"), "alloy_model"),
        (dict(composition="He", a=3.0), "Li on"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scf(progress=False, **kwargs)


@pytest.mark.slow
def test_ni_moment_and_exchange_splitting():
    d = scf("Ni", kmesh=14, progress=False)
    sp = d["species"]["Ni"]
    assert sp["moment_muB"] == pytest.approx(0.60, abs=0.05)
    split = sp["C_Ry"]["down"][2] - sp["C_Ry"]["up"][2]
    assert split * RY_EV == pytest.approx(0.6, abs=0.1)
    assert d["fermi_energy_Ry"] == pytest.approx(-0.060, abs=5e-3)


@pytest.mark.slow
def test_bcc_fe_moment():
    d = scf("Fe", "bcc", a=2.87, kmesh=14, progress=False)
    assert d["species"]["Fe"]["moment_muB"] == pytest.approx(2.2, abs=0.1)


@pytest.mark.slow
def test_new_element_by_arguments_fcc_co():
    d = scf("Co", "fcc", a=3.544, kmesh=12, progress=False)
    # LSDA fcc Co is a strong ferromagnet, ≈ 1.6 μB
    assert d["species"]["Co"]["moment_muB"] == pytest.approx(1.6, abs=0.15)


@pytest.mark.slow
def test_permalloy_species_moments():
    d = scf({"Ni": 0.8, "Fe": 0.2}, a=3.548, alloy_model="supercell", progress=False)
    ni, fe = d["species"]["Ni"], d["species"]["Fe"]
    assert ni["concentration"] == pytest.approx(0.8) and fe["concentration"] == pytest.approx(0.2)
    # strong-ferromagnet Fe and Ni moments close to the KKR-CPA/experiment values (0.6 / 2.6)
    assert ni["moment_muB"] == pytest.approx(0.6, abs=0.1)
    assert fe["moment_muB"] == pytest.approx(2.65, abs=0.15)
    n_fe = d["provenance"]["settings"]["site_counts"]["Fe"]
    n = d["provenance"]["settings"]["n_sites"]
    assert n_fe == round(0.2 * n) and fe["site_fraction"] == n_fe / n
    assert d["system"] == "Ni0.8Fe0.2" and d["composition"] == {"Ni": 0.8, "Fe": 0.2}


def test_alloy_end_points_reproduce_the_element_scf():
    """x → 0 and x → 1 of an alloy scan are the element SCF, number for number."""
    def strip(d):
        d = json.loads(json.dumps(d))
        d["provenance"].pop("seconds")
        return d

    for comp, el, lattice in (({"Ni": 1.0, "Co": 0.0}, "Ni", "fcc"), ({"Fe": 0.0, "Cr": 1.0}, "Cr", "bcc")):
        alloy = scf(comp, lattice, a=3.524 if lattice == "fcc" else 2.88, kmesh=8, tol_Ry=1e-4,
                    progress=False)
        element = scf(el, lattice, a=3.524 if lattice == "fcc" else 2.88, kmesh=8, tol_Ry=1e-4,
                      progress=False)
        assert strip(alloy) == strip(element)


def test_alloy_end_point_is_the_element():
    # x = 0 runs fcc Ni on the primitive cell at the Vegard lattice constant a(0) = a_Ni;
    # even on a coarse 8³ mesh Ni is a ferromagnet near 0.6 μB
    d = scf({"Ni": 1.0, "Fe": 0.0}, kmesh=8, progress=False)
    assert list(d["species"]) == ["Ni"]
    assert d["system"] == "Ni" and d["composition"] == {"Ni": 1.0}
    assert d["lattice_constant_angstrom"] == pytest.approx(3.524, abs=1e-3)
    ni = d["species"]["Ni"]
    assert ni["concentration"] == 1.0
    assert 0.5 < ni["moment_muB"] < 0.7
    q = np.array(ni["charges"]["up"]) + np.array(ni["charges"]["down"])
    assert q.sum() == pytest.approx(10.0, abs=1e-6)


def test_supercell_geometry_counts_neighbours_and_kmesh():
    from tbmto.asa.scf import supercell_geometry, supercell_kmesh

    for lattice, a, nn, n_nn in (("fcc", 3.6, 3.6 / 2**0.5, 12), ("bcc", 2.87, 2.87 * 3**0.5 / 2, 8)):
        g = supercell_geometry(lattice, a, [20, 9, 3], seed=5)
        assert len(g.positions) == 32 and np.bincount(g.site_species).tolist() == [20, 9, 3]
        assert abs(np.linalg.det(g.cell)) / 32 == pytest.approx(a**3 / (4 if lattice == "fcc" else 2))
        # nearest-neighbour shell of every site through the periodic images
        frac = np.array(np.meshgrid(*[[-1, 0, 1]] * 3, indexing="ij")).reshape(3, -1).T @ g.cell
        d = np.linalg.norm(g.positions[:, None, None] - g.positions[None, :, None] - frac[None, None], axis=-1)
        assert np.all(np.sum(np.isclose(d, nn), axis=(1, 2)) == n_nn)
        again = supercell_geometry(lattice, a, [20, 9, 3], seed=5)
        assert np.array_equal(again.site_species, g.site_species)
        assert not np.array_equal(supercell_geometry(lattice, a, [20, 9, 3], seed=6).site_species, g.site_species)
    fcc = supercell_geometry("fcc", 3.6, [26, 6], 0)
    bcc = supercell_geometry("bcc", 2.87, [26, 6], 0)
    assert supercell_kmesh(12, fcc) == (4, 4, 4) and supercell_kmesh(12, bcc) == (5, 5, 3)
    with pytest.raises(ValueError, match="do not fill"):
        supercell_geometry("bcc", 2.87, [26, 5], 0)


@pytest.mark.slow
def test_ternary_bcc_alloy_v_antiparallel_in_fe():
    # V impurities in bcc Fe carry a moment antiparallel to the host (≈ −1 μB in LSDA); a three-
    # species alloy through the same supercell model, exact counts, neutral as a whole
    d = scf({"Fe": 0.7, "Co": 0.2, "V": 0.1}, "bcc", kmesh=8, tol_Ry=1e-4, alloy_model="supercell",
            progress=False)
    counts = d["provenance"]["settings"]["site_counts"]
    assert counts == {"Fe": 23, "Co": 6, "V": 3}
    sp = d["species"]
    assert sp["Fe"]["moment_muB"] > 2.2 and 1.5 < sp["Co"]["moment_muB"] < 1.9
    assert sp["V"]["moment_muB"] < -0.3
    total = sum(counts[el] * (np.sum(sp[el]["charges"]["up"]) + np.sum(sp[el]["charges"]["down"]))
                for el in sp)
    valence = {"Fe": 8, "Co": 9, "V": 5}
    assert total == pytest.approx(sum(counts[el] * valence[el] for el in sp), abs=1e-4)
