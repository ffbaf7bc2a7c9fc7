"""tbmto.io: the potentials writer (format checks), atomic replacement, and the round trips of
the structure, transport and table formats."""

import json

import numpy as np
import pandas as pd
import pytest

from tbmto.io import (POTENTIALS_FORMAT as FORMAT, TRANSPORT_FORMAT, atomic_write, read_structure,
                      read_table, read_transport, validate_potentials, write_potentials,
                      write_structure, write_table, write_transport)


def _minimal():
    sp = {"concentration": 1.0, "moment_muB": 0.0,
          "charges": {"up": [0.4, 0.4, 4.7], "down": [0.4, 0.4, 4.7]},
          "C_Ry": {"up": [-0.4, 0.6, -0.29], "down": [-0.4, 0.6, -0.29]},
          "sqrt_delta_Ry": {"up": [0.41, 0.40, 0.094], "down": [0.41, 0.40, 0.094]},
          "gamma": {"up": [0.42, 0.11, -0.003], "down": [0.42, 0.11, -0.003]},
          "xi_Ry": [0.0, 0.011, 0.0084], "radial": None}
    return {"format": FORMAT, "system": "Cu", "lattice": "fcc", "composition": {"Cu": 1.0},
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


def test_failed_writer_leaves_the_old_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("old")

    def broken(tmp):
        with open(tmp, "w") as fh:
            fh.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_structure_transport_and_table_round_trips(tmp_path):
    from tbmto.structure import build_stack

    atoms = build_stack(supercell=(1, 1), layers=3, lattice="bcc", lattice_constant=2.87, lead="Cr",
                        composition={"Fe": 0.5, "Co": 0.5}, system="FeCo", nested_lengths=[1, 3])
    write_structure(atoms, tmp_path / "s" / "a.extxyz")
    back = read_structure(tmp_path / "s" / "a.extxyz")
    assert back.info == json.loads(json.dumps(atoms.info))
    assert np.array_equal(back.arrays["layer"], atoms.arrays["layer"])
    assert list(back.get_chemical_symbols()) == list(atoms.get_chemical_symbols())
    data = {"format": TRANSPORT_FORMAT, "result": {"G_e2h": 1.5}}
    write_transport(data, tmp_path / "t.json")
    assert read_transport(tmp_path / "t.json") == data
    with pytest.raises(ValueError, match="format"):
        write_transport({"format": "x"}, tmp_path / "u.json")
    (tmp_path / "v.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a tbmto-transport/1 file"):
        read_transport(tmp_path / "v.json")
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    write_table(df, tmp_path / "tab")
    pd.testing.assert_frame_equal(read_table(tmp_path, "tab"), df)
    pd.testing.assert_frame_equal(read_table(tmp_path / "tab.csv"), df)
    with pytest.raises(FileNotFoundError, match="nope"):
        read_table(tmp_path, "nope")
