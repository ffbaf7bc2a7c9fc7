"""Tests of tbmto.potentials: reading, E_F shift, merging, errors."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from tbmto.materials import wigner_seitz_radius
from tbmto.potentials import BOHR_ANGSTROM, load

CU = Path(__file__).parent / "data" / "cu_rslmto.json"


def _write(path, data):
    path.write_text(json.dumps(data))
    return path




def test_cu_reference_file():
    pot = load(CU, linearisation="band_centre")
    cu = pot.species["Cu"]
    assert pot.lattice_constant_angstrom == 3.614
    np.testing.assert_allclose(cu.C, [[-0.4269 + 0.089, 0.5683 + 0.089, -0.3003 + 0.089]] * 2)
    np.testing.assert_allclose(cu.sqrt_delta, [[0.4082, 0.3970, 0.09534]] * 2)
    np.testing.assert_allclose(cu.gamma, [[0.4222, 0.1115, -0.00384]] * 2)
    np.testing.assert_allclose(cu.xi, [0.0, 0.0119, 0.00837])
    assert cu.moment_muB == 0.0 and cu.concentration == 1.0 and cu.source == str(CU)
    # the file's w is the fcc average WS radius of its lattice constant
    assert pot.wigner_seitz_radius_bohr == pytest.approx(
        wigner_seitz_radius(3.614, "fcc") / BOHR_ANGSTROM, abs=1e-3)
    assert pot.wigner_seitz_radius_angstrom == pytest.approx(2.669 * 0.529177210903)


def test_round_trip_and_fermi_shift(tmp_path):
    cu = json.loads(CU.read_text())
    shifted = copy.deepcopy(cu)
    shifted["fermi_energy_Ry"] += 0.3
    for s in ("up", "down"):
        shifted["species"]["Cu"]["C_Ry"][s] = [c + 0.3 for c in cu["species"]["Cu"]["C_Ry"][s]]
    p1 = load(CU, linearisation="band_centre")
    p2 = load(_write(tmp_path / "s.json", shifted), linearisation="band_centre")
    # C − E_F is invariant under a rigid shift of all energies
    np.testing.assert_allclose(p2.species["Cu"].C, p1.species["Cu"].C, atol=1e-12)
    for key in ("sqrt_delta", "gamma", "xi"):
        np.testing.assert_array_equal(getattr(p2.species["Cu"], key), getattr(p1.species["Cu"], key))


def test_merge_and_for_atoms(tmp_path, spin_split_cu):
    cu = json.loads(CU.read_text())
    ni = spin_split_cu(cu, d_up=-0.05, d_down=0.05)  # d centres split by ±0.05 Ry
    ni["fermi_energy_Ry"] = -0.05
    pot = load(CU, _write(tmp_path / "ni.json", ni), linearisation="band_centre")
    assert sorted(pot.species) == ["Cu", "Ni"]
    assert len(pot.sources) == 2
    # each file shifted by its own E_F
    np.testing.assert_allclose(pot.species["Ni"].C[0], np.array(ni["species"]["Ni"]["C_Ry"]["up"]) + 0.05)
    arr = pot.for_atoms(["Cu", "Ni", "Ni", "Cu"])
    assert arr["C"].shape == (4, 2, 3) and arr["xi"].shape == (4, 3)
    np.testing.assert_array_equal(arr["C"][1], pot.species["Ni"].C)
    np.testing.assert_array_equal(arr["C"][3], pot.species["Cu"].C)
    np.testing.assert_array_equal(arr["moment_muB"], [0.0, 0.6, 0.6, 0.0])
    # the same species twice with identical parameters is fine
    assert sorted(load(CU, CU, linearisation="band_centre").species) == ["Cu"]
    with pytest.raises(ValueError, match="available species: \\['Cu', 'Ni'\\]"):
        pot.for_atoms(["Cu", "Fe"])


def test_conflicts(tmp_path):
    cu = json.loads(CU.read_text())
    other = copy.deepcopy(cu)
    other["species"]["Cu"]["gamma"]["up"][0] += 0.01
    p = _write(tmp_path / "other.json", other)
    with pytest.raises(ValueError, match="defined differently") as exc:
        load(CU, p, linearisation="band_centre")
    assert str(CU) in str(exc.value) and str(p) in str(exc.value)
    lat = copy.deepcopy(cu)
    lat["lattice_constant_angstrom"] += 0.01
    q = _write(tmp_path / "lat.json", lat)
    with pytest.raises(ValueError, match="lattice constants differ") as exc:
        load(CU, q, linearisation="band_centre")
    assert str(CU) in str(exc.value) and str(q) in str(exc.value)
    ok = copy.deepcopy(cu)
    ok["lattice_constant_angstrom"] += 5e-5
    load(CU, _write(tmp_path / "ok.json", ok), linearisation="band_centre")


@pytest.mark.parametrize("drop,key", [
    (("fermi_energy_Ry",), "fermi_energy_Ry"),
    (("lattice_constant_angstrom",), "lattice_constant_angstrom"),
    (("species", "Cu", "gamma"), "species.Cu.gamma"),
    (("species", "Cu", "xi_Ry"), "species.Cu.xi_Ry"),
    (("species", "Cu", "moment_muB"), "species.Cu.moment_muB"),
    (("species", "Cu", "C_Ry", "down"), "species.Cu.C_Ry.down"),
])
def test_missing_keys(tmp_path, drop, key):
    data = json.loads(CU.read_text())
    node = data
    for k in drop[:-1]:
        node = node[k]
    del node[drop[-1]]
    p = _write(tmp_path / "bad.json", data)
    with pytest.raises(ValueError, match="missing key") as exc:
        load(p, linearisation="band_centre")
    assert key in str(exc.value) and str(p) in str(exc.value)


def test_bad_values(tmp_path):
    data = json.loads(CU.read_text())
    data["species"]["Cu"]["C_Ry"]["up"] = [0.0, 1.0]
    with pytest.raises(ValueError, match="C_Ry.up must be 3"):
        load(_write(tmp_path / "b.json", data), linearisation="band_centre")
    data = json.loads(CU.read_text())
    data["format"] = "other/2"
    with pytest.raises(ValueError, match="format"):
        load(_write(tmp_path / "c.json", data), linearisation="band_centre")
    with pytest.raises(ValueError, match="paths"):
        load()
