"""Failures that say what happened: the exit status of ``tbmto`` per kind of failure
(tbmto.errors: usage 2, physics/numerics 3, missing input 4) and messages that name the
structure, the k-point and what to change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tbmto.cli import main
from tbmto.errors import EXIT_MISSING_INPUT, EXIT_PHYSICS, EXIT_USAGE, LeadModeError, PhysicsError

DATA = Path(__file__).parent / "data"


def chain(energy: float):
    """Lead modes of a 1D chain with hopping −1 (band −2 … 2) at ``energy``."""
    from tbmto.wfm import lead_modes

    return lead_modes(np.zeros((1, 1)), -np.eye(1), energy)


def test_band_edge_is_a_physics_error_and_still_a_value_error():
    assert chain(1.0).n_modes == 1  # inside the band: fine
    with pytest.raises(LeadModeError, match="band edge") as exc:
        chain(2.0)  # the top of the band: zero velocity
    assert isinstance(exc.value, PhysicsError) and isinstance(exc.value, ValueError)


def test_exit_codes_are_distinct_and_documented():
    import tbmto.cli

    assert len({EXIT_USAGE, EXIT_PHYSICS, EXIT_MISSING_INPUT, 0, 1}) == 5
    assert EXIT_USAGE == 2  # argparse's own status for bad options
    for code in (EXIT_USAGE, EXIT_PHYSICS, EXIT_MISSING_INPUT):
        assert f" {code} " in tbmto.cli.__doc__


@pytest.fixture(scope="module")
def cu_stack(tmp_path_factory):
    """A 1×1 Cu | Cu(2 layers) | Cu structure file (published Cu parameters)."""
    from tbmto import structure
    from tbmto.io import write_structure

    path = tmp_path_factory.mktemp("cu") / "cu.extxyz"
    write_structure(structure.build_stack(direction="001", supercell=(1, 1), layers=2, lattice_constant=3.614,
                                          composition={"Cu": 1.0}, lead="Cu", system="CuTest", config=3), path)
    return path


def _transport(cu_stack, out, *extra):
    return main(["transport", "--structure", str(cu_stack), "--potentials", str(DATA / "cu_rslmto.json"),
                 "--linearisation", "band_centre", "--no-soc", "--kmesh", "2", "--no-batched", "--no-progress",
                 "--out", str(out), *extra])


def test_transport_runs_cleanly_without_the_injected_failure(cu_stack, tmp_path):
    assert _transport(cu_stack, tmp_path / "t.json") == 0


def test_lead_band_edge_in_transport_exits_3_naming_structure_kpoint_and_remedy(cu_stack, tmp_path, monkeypatch,
                                                                               capsys):
    """A lead that fails at the third k-point (a real band-edge failure of the lead solver,
    substituted for the Cu lead there): exit 3, and the message names the structure file, system,
    configuration, magnetisation, the k-point and the options to change; nothing is written."""
    import tbmto.wfm.backends as backends

    calls = {"n": 0}
    real = backends.lead_modes

    def failing(h, v, energy, name="lead"):
        calls["n"] += 1
        if calls["n"] > 2:  # one distinct lead per k-point (LeadSolver): the first two succeed
            return chain(2.0)
        return real(h, v, energy, name=name)

    monkeypatch.setattr(backends, "lead_modes", failing)
    out = tmp_path / "t.json"
    assert _transport(cu_stack, out, "--magnetization", "perp") == EXIT_PHYSICS
    err = capsys.readouterr().err
    assert err.startswith("tbmto transport: physics error: ")
    for part in (str(cu_stack), "magnetization perp", "structure CuTest configuration 3", "2 slab layers",
                 "k-point #2 of 4 k = (", "no SOC", "band edge", "--kmesh", "now 2x2", "--kgrid"):
        assert part in err, (part, err)
    assert not out.exists()


def test_kmap_keeps_a_physics_error_raised_on_another_rank():
    """kmap's multi-rank path (a fake two-rank communicator): a PhysicsError on rank 1 reaches
    every rank as a PhysicsError, an ordinary error as a plain RuntimeError."""
    from tbmto.parallel import kmap

    class Rank0of2:
        def Get_size(self):
            return 2

        def Get_rank(self):
            return 0

        def allgather(self, mine):  # rank 1's contribution: item 1 failed
            return [mine, (self.remote, [])]

    comm = Rank0of2()
    comm.remote = ("item 1 on rank 1: LeadModeError: at a band edge", True)
    with pytest.raises(PhysicsError, match="item 1 on rank 1: LeadModeError: at a band edge"):
        kmap(lambda x: x, [0, 1], comm=comm, progress=False)
    comm.remote = ("item 1 on rank 1: KeyError: 'x'", False)
    with pytest.raises(RuntimeError) as exc:
        kmap(lambda x: x, [0, 1], comm=comm, progress=False)
    assert not isinstance(exc.value, PhysicsError)


def test_scf_that_does_not_converge_exits_3_naming_composition_and_options(tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["scf", "--composition", "Cu", "--a", "3.614", "--kmesh", "4", "--max-iter", "1",
                 "--no-progress", "--out", str(out)]) == EXIT_PHYSICS
    err = capsys.readouterr().err
    assert err.startswith("tbmto scf: physics error: self-consistent potentials of Cu=1 (fcc, a = 3.614 Å")
    assert "did not converge in 1 iterations" in err
    for option in ("--max-iter", "scf.max_iter", "--smearing-Ry", "--tol-Ry"):
        assert option in err
    assert not out.exists()


def test_missing_input_exits_4(tmp_path, capsys):
    rc = main(["transport", "--structure", str(tmp_path / "absent.extxyz"), "--potentials",
               str(DATA / "cu_rslmto.json"), "--out", str(tmp_path / "t.json")])
    assert rc == EXIT_MISSING_INPUT
    err = capsys.readouterr().err
    assert err.startswith("tbmto transport: missing input: ") and "absent.extxyz" in err


def test_bad_value_is_a_usage_error(cu_stack, tmp_path, capsys):
    """A value argparse cannot check (the potentials' lattice constant differs from the
    structure's) is a usage error: exit 2 with both numbers named."""
    from tbmto import structure
    from tbmto.io import write_structure

    path = tmp_path / "cu35.extxyz"
    write_structure(structure.build_stack(direction="001", supercell=(1, 1), layers=2, lattice_constant=3.5,
                                          composition={"Cu": 1.0}, lead="Cu"), path)
    assert _transport(path, tmp_path / "t.json") == EXIT_USAGE
    err = capsys.readouterr().err
    assert "3.5 Å differs from the potentials' 3.614 Å" in err
