"""Potentials file writer: format checks and atomic replacement."""

import json

import pytest

from tbmto.asa import write_potentials
from tbmto.asa.io import FORMAT, validate_potentials


def _minimal():
    sp = {"concentration": 1.0, "moment_muB": 0.0,
          "charges": {"up": [0.4, 0.4, 4.7], "down": [0.4, 0.4, 4.7]},
          "C_Ry": {"up": [-0.4, 0.6, -0.29], "down": [-0.4, 0.6, -0.29]},
          "sqrt_delta_Ry": {"up": [0.41, 0.40, 0.094], "down": [0.41, 0.40, 0.094]},
          "gamma": {"up": [0.42, 0.11, -0.003], "down": [0.42, 0.11, -0.003]},
          "xi_Ry": [0.0, 0.011, 0.0084], "radial": None}
    return {"format": FORMAT, "system": "Cu", "lattice": "fcc", "x_fe": 0.0,
            "lattice_constant_angstrom": 3.614, "wigner_seitz_radius_bohr": 2.669,
            "fermi_energy_Ry": -0.08, "species": {"Cu": sp},
            "provenance": {"tbmto_version": "0", "method": "test", "settings": {},
                           "converged": True, "iterations": 1, "residual_Ry": 0.0,
                           "seconds": 0.0}}


def test_overwrite_is_atomic_and_complete(tmp_path):
    path = tmp_path / "Cu.json"
    path.write_text("old")
    data = _minimal()
    write_potentials(data, path)
    assert json.loads(path.read_text()) == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Cu.json"]


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.pop("fermi_energy_Ry"), "fermi_energy_Ry"),
    (lambda d: d.update(format="other/2"), "format"),
    (lambda d: d["species"]["Cu"].pop("gamma"), "gamma"),
    (lambda d: d["species"]["Cu"].pop("radial"), "radial"),
    (lambda d: d.update(species={}), "at least one species"),
    (lambda d: d["provenance"].update(converged=False), "not converged"),
])
def test_invalid_data_is_refused(tmp_path, mutate, match):
    data = _minimal()
    mutate(data)
    with pytest.raises(ValueError, match=match):
        write_potentials(data, tmp_path / "x.json")
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="dict"):
        validate_potentials([1, 2])
