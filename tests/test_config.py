"""Study-config schema, readable validation errors and plan expansion (tbmto.config)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tbmto.config import ConfigError, expand_plan, load_config, validate_config
from tbmto.materials import element_lattice_constant, vegard_lattice_constant
from tbmto.structure import layer_spacing

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted((REPO / "configs").glob("*.yaml"))
SHIPPED = [p for p in SHIPPED if p.name != "schema.yaml"]

BASE = {
    "study": "t",
    "alloys": [{"elements": ["Ni", "Fe"], "x": [0.2], "lattice_constant": "vegard"}],
    "geometry": {"supercell": [2, 2], "lengths": [4, 6, 8], "configurations": 3, "direction": "001"},
}


def _with(path: str, value):
    """Copy of BASE with the value at a dotted path (list index as int) replaced."""
    cfg = copy.deepcopy(BASE)
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = cfg
    for k in keys[:-1]:
        node = node[k] if isinstance(k, int) else node.setdefault(k, {})
    node[keys[-1]] = value
    return cfg


def test_base_config_valid_and_defaults_filled():
    cfg = validate_config(BASE)
    assert cfg["transport"]["soc"] == [True]
    assert cfg["transport"]["magnetization"] == ["par", "perp"]
    assert cfg["mpi"] == {"ranks": 1, "launcher": "mpiexec"}
    assert cfg["fit"]["method"] == "spread"
    assert "transport" not in BASE  # input not mutated


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    plan = expand_plan(load_config(path))
    assert len(plan.systems) + len(plan.interfaces) + len(plan.domain_walls) >= 1
    assert len(plan.lengths) >= 3
    n_runs = len(plan.magnetizations) * len(plan.soc)
    if {"par", "perp"} <= set(plan.magnetizations) and False in plan.soc:
        n_runs -= 1  # perp without SOC repeats par exactly and is skipped
    assert len(plan.transport_runs()) == n_runs
    assert len(plan.transport_files()) == len(plan.systems) * len(plan.lengths) * plan.configurations * n_runs


def test_perp_without_soc_is_skipped_unless_needed():
    both = _with("transport.soc", [True, False])
    both["transport"]["magnetization"] = ["par", "perp"]
    plan = expand_plan(validate_config(both))
    assert sorted(plan.transport_runs()) == [("par", False), ("par", True), ("perp", True)]
    assert not any(f.endswith("_perp_nosoc.json") for f in plan.transport_files())
    # alpha taken from perp alone needs the perp no-SOC runs
    both["fit"] = {**both.get("fit", {}), "damping_from": "perp"}
    plan = expand_plan(validate_config(both))
    assert ("perp", False) in plan.transport_runs()
    # perp alone without SOC is still computed
    only_perp = _with("transport.soc", [False])
    only_perp["transport"]["magnetization"] = ["perp"]
    assert expand_plan(validate_config(only_perp)).transport_runs() == [("perp", False)]


def test_expected_shipped_configs_exist():
    assert {p.name for p in SHIPPED} >= {"default.yaml", "nife_alloys.yaml", "ni_thermal.yaml", "tiny.yaml"}


BAD = [
    # (config, key that must be named, fragment of the allowed values)
    ({**BASE, "bogus": 1}, "bogus", "allowed keys"),
    (_with("geometry.colour", "red"), "geometry.colour", "allowed keys"),
    (_with("alloys.0.x", [0.2, 1.5]), "alloys[0].x[1]", "<= 1"),
    (_with("alloys.0.x", [-0.1]), "alloys[0].x[0]", ">= 0"),
    (_with("geometry.lengths", [4, 6]), "geometry.lengths", "at least 3"),
    (_with("geometry.lengths", [4, 4, 6]), "geometry.lengths", "distinct"),
    (_with("geometry.supercell", [2.5, 2]), "geometry.supercell[0]", "integer"),
    (_with("geometry.supercell", [0, 2]), "geometry.supercell[0]", ">= 1"),
    (_with("geometry.supercell", [2]), "geometry.supercell", "at least 2"),
    (_with("alloys.0.elements", ["Ni", "Xx"]), "alloys[0].elements[1]", "not a known element"),
    (_with("alloys.0.elements", ["Ni", "He"]), "alloys[0].elements[1]", "from Li on"),
    (_with("alloys.0.elements", ["Ni", "fe"]), "alloys[0].elements[1]", "element symbols"),
    (_with("geometry.direction", "010"), "geometry.direction", "'111'"),
    (_with("geometry.direction", 1), "geometry.direction", "'001'"),
    (_with("transport.magnetization", ["sideways"]), "transport.magnetization[0]", "'perp'"),
    (_with("transport.soc", "yes"), "transport.soc", "array"),
    (_with("transport.kmesh", [8, 0]), "transport.kmesh[1]", ">= 1"),
    (_with("mpi.launcher", "aprun"), "mpi.launcher", "'srun'"),
    (_with("mpi.ranks", 0), "mpi.ranks", ">= 1"),
    (_with("seed", -1), "seed", ">= 0"),
    (_with("alloys.0.lattice_constant", "big"), "alloys[0].lattice_constant", "vegard"),
    (_with("alloys.0.lattice_constant", -3.5), "alloys[0].lattice_constant", "vegard"),
    ({k: v for k, v in BASE.items() if k != "study"}, "study", "missing required key"),
    ({**BASE, "thermal": [{"element": "Ni", "lattice_constant": 3.524, "delta_angstrom": [-0.01]}]},
     "thermal[0].delta_angstrom[0]", ">= 0"),
    ({**BASE, "thermal": [{"element": "Ni", "lattice_constant": 3.524}]},
     "thermal[0]", "exactly one of delta_angstrom or delta_over_a"),
    ({**BASE, "thermal": [{"element": "Ni", "lattice_constant": 3.524, "delta_angstrom": [0.01],
                           "delta_over_a": [0.01]}]},
     "thermal[0]", "exactly one of delta_angstrom or delta_over_a"),
    ({**BASE, "thermal": [{"element": "Unobtainium", "lattice_constant": 3.5, "delta_over_a": [0.01]}]},
     "thermal[0].element", "element symbol"),
    ({**BASE, "thermal": [{"element": "Xe", "delta_over_a": [0.01]}]},
     "thermal[0].lattice_constant", "give the lattice constant in Å"),
    ({**BASE, "alloys": [{"compositions": [{"Fe": 0.7, "Co": 0.2}]}]},
     "alloys[0].compositions[0]", "must sum to 1"),
    ({**BASE, "alloys": [{"compositions": [{"Fe": 1.2, "Co": -0.2}]}]},
     "alloys[0].compositions[0].Co", "must be > 0"),
    ({**BASE, "alloys": [{"compositions": [{"Fe": 0.5, "Xx": 0.5}]}]},
     "alloys[0].compositions[0]", "not a known element"),
    ({**BASE, "alloys": [{"elements": ["Fe", "Co"], "x": [0.2], "compositions": [{"Fe": 1.0}]}]},
     "alloys[0]", "either elements"),
    ({**BASE, "alloys": [{"lattice": "bcc"}]}, "alloys[0]", "either elements"),
    (_with("alloys.0.lattice", "hcp"), "alloys[0].lattice", "'bcc'"),
    (_with("geometry.direction", "110"), "geometry.direction", "allowed for fcc: '001', '111'"),
    ({**BASE, "alloys": [{"elements": ["Fe", "Co"], "x": [0.2], "lattice": "bcc"}],
      "geometry": {"direction": "111"}}, "geometry.direction", "allowed for bcc: '001', '110'"),
    (_with("geometry.lead", "Xx"), "geometry.lead", "not a known element"),
    ({**BASE, "alloys": [{"elements": ["Ni", "Xe"], "x": [0.2]}]}, "alloys[0].lattice_constant",
     "lacks"),
    ({**BASE, "alloys": []}, "alloys, thermal", "at least one"),
    (_with("fit.min_conductance_e2h", 0), "fit.min_conductance_e2h", "positive number"),
    ({**BASE, "alloys": [{"elements": ["Ni", "Fe"], "x": [0.2], "lattice_constant": "vegard"}, {"elements": ["Ni", "Fe"], "x": [0.5]}]}, "alloys[1].name", "distinct"),
]


@pytest.mark.parametrize("cfg,key,allowed", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_configs_rejected_with_key_and_allowed_values(cfg, key, allowed):
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    msg = str(exc.value)
    assert key in msg, msg
    assert allowed in msg, msg


def test_bad_value_is_quoted_in_message():
    with pytest.raises(ConfigError, match=r"alloys\[0\]\.x\[1\] = 1\.5"):
        validate_config(_with("alloys.0.x", [0.2, 1.5]))


def test_all_errors_reported_at_once():
    cfg = _with("geometry.direction", "010")
    cfg["geometry"]["lengths"] = [4]
    cfg["nonsense"] = True
    msg = str(pytest.raises(ConfigError, validate_config, cfg).value)
    for key in ("geometry.direction", "geometry.lengths", "nonsense"):
        assert key in msg


def test_load_config_names_the_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump({**BASE, "typo_key": 3}))
    with pytest.raises(ConfigError, match=r"(?s)bad.yaml.*typo_key"):
        load_config(p)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_plan_alloy_lattice_constants_and_leads():
    plan = expand_plan(_with("alloys.0.x", [0.2, 0.5]))
    for s in plan.systems:
        comp = {"Ni": 1 - s.x, "Fe": s.x}
        assert s.lattice_constant == pytest.approx(vegard_lattice_constant(comp, "fcc"))
        # the Cu lead is computed in the slab's lattice at the slab's lattice constant
        assert s.lead_potential.composition == (("Cu", 1.0),)
        assert s.lead_potential.lattice == s.lattice == "fcc"
        assert s.lead_potential.lattice_constant == s.lattice_constant
        assert dict(s.potential.composition) == pytest.approx(comp)
        assert dict(s.composition) == pytest.approx(comp) and s.x_element == "Fe"
    assert len(plan.potentials()) == 4
    assert plan.systems[0].potential.label == f"Ni0.8Fe0.2_fcc_a{plan.systems[0].lattice_constant:.4f}"


def test_plan_any_alloy_bcc_multicomponent_and_any_lead():
    cfg = {"study": "t", "geometry": {"direction": "110", "lead": "Cr", "lengths": [2, 3, 4]},
           "alloys": [{"elements": ["Fe", "Co"], "x": [0.0, 0.25], "lattice": "bcc"},
                      {"name": "FeCoV", "lattice": "bcc", "lattice_constant": 2.85,
                       "compositions": [{"Fe": 0.7, "Co": 0.28, "V": 0.02}, {"Fe": 0.7, "Co": 0.2, "V": 0.1}]}],
           "thermal": [{"element": "Fe", "lattice": "bcc", "delta_over_a": [0.02]}]}
    plan = expand_plan(cfg)
    labels = [s.label for s in plan.systems]
    assert labels == ["FeCo_x0.0000", "FeCo_x0.2500", "FeCoV_Fe0.7Co0.2V0.1", "FeCoV_Fe0.7Co0.28V0.02",
                      "Fe_d0.05733"]
    pure, feco, v10, v02, thermal = plan.systems
    a_fe, a_co = element_lattice_constant("Fe", "bcc"), element_lattice_constant("Co", "bcc")
    assert pure.lattice_constant == pytest.approx(a_fe) and pure.composition == (("Fe", 1.0),)
    assert feco.lattice_constant == pytest.approx(0.75 * a_fe + 0.25 * a_co)
    # a compositions scan varies the element with the largest spread (Co, then V by order)
    assert v02.x_element == "Co" and v02.x == pytest.approx(0.28) and v10.x == pytest.approx(0.2)
    assert thermal.lattice_constant == pytest.approx(a_fe) and thermal.lattice == "bcc"
    assert all(s.lead_potential.composition == (("Cr", 1.0),) and s.lead_potential.lattice == "bcc"
               for s in plan.systems)
    assert plan.elements == ("Fe", "Co", "V")
    rec = {r["system"]: r for r in plan.system_records()}
    assert rec["FeCoV_Fe0.7Co0.28V0.02"]["composition"] == "Fe0.7Co0.28V0.02"
    assert [rec["FeCo_x0.2500"][f"x_{el}"] for el in ("Fe", "Co", "V")] == [0.75, 0.25, 0.0]
    assert rec["Fe_d0.05733"]["layer_spacing_angstrom"] == pytest.approx(a_fe / 2**0.5)
    assert "--composition Fe=0.7,Co=0.28,V=0.02 --lattice bcc --a 2.85" in plan.scf_args(v02.potential.label)
    assert "--lattice bcc --direction 110" in plan.build_args(v02.label, None, 0)
    assert "--composition Fe " in plan.build_args(pure.label, None, 0) + " "
    runs = plan.run_records()
    assert len(runs) == len(plan.transport_files()) == 5 * 3 * 3 * 2
    assert {r["lead"] for r in runs} == {"Cr"} and all(r["path"].startswith(plan.root) for r in runs)


def test_plan_thermal_shares_potentials_and_converts_delta():
    cfg = {**BASE, "alloys": [], "thermal": [{"element": "Ni", "lattice_constant": 3.524, "delta_over_a": [0.01, 0.02]}]}
    plan = expand_plan(cfg)
    assert [s.delta_angstrom for s in plan.systems] == pytest.approx([0.03524, 0.07048])
    assert len(plan.potentials()) == 2  # one Ni potential and one Cu lead for every Δ
    assert {s.potential.label for s in plan.systems} == {"Ni_fcc_a3.5240"}
    assert plan.figure_names() == ["fit_resistance", "fano_length", "fit_damping", "rho_delta", "alpha_delta"]


def test_plan_paths_and_rule_arguments():
    plan = expand_plan(_with("transport.soc", [True, False]))
    s = plan.systems[0].label
    assert plan.transport_path(s, 6, 2, "perp", False) == f"results/t/transport/{s}/L6/c2_perp_nosoc.json"
    # nested (default): one structure per configuration for all lengths, one job per length set
    assert plan.nested and plan.structure_path(s, 6, 2) == f"results/t/structures/{s}/c2.extxyz"
    lens = ",".join(map(str, plan.lengths))
    assert f"--layers {plan.lengths[-1]} --nested-lengths {lens}" in plan.build_args(s, None, 2)
    assert f"--lengths {lens}" in plan.transport_args(s, "par", "soc")
    assert len(plan.structure_files()) == len(plan.systems) * plan.configurations
    flat = expand_plan(_with("geometry.nested", False))
    assert flat.structure_path(s, 6, 2) == f"results/t/structures/{s}/L6/c2.extxyz"
    assert "--nested-lengths" not in flat.build_args(s, 6, 2) and "--lengths" not in flat.transport_args(s, "par", "soc")
    assert len(flat.structure_files()) == len(plan.systems) * plan.configurations * len(plan.lengths)
    assert "--memory-limit-gb" not in plan.speed_options
    assert "--memory-limit-gb 0.5" in expand_plan(_with("transport.memory_limit_gb", 0.5)).speed_options
    assert "--composition Ni=0.8,Fe=0.2" in plan.build_args(s, 6, 2)
    assert "--no-soc" in plan.transport_args(s, "par", "nosoc")
    # per-rule arguments only carry what that rule depends on
    changed = expand_plan(_with("transport.kmesh", [12, 12]))
    assert changed.build_args(s, 6, 2) == plan.build_args(s, 6, 2)
    assert changed.scf_args(plan.systems[0].potential.label) == plan.scf_args(plan.systems[0].potential.label)
    assert changed.transport_args(s, "par", "soc") != plan.transport_args(s, "par", "soc")
    # fit.min_conductance_e2h reaches the fit rule only when set (default: unchanged arguments)
    assert "--min-conductance" not in plan.fit_args()
    assert "--min-conductance 1.5" in expand_plan(_with("fit.min_conductance_e2h", 1.5)).fit_args()


def test_layer_spacing():
    assert layer_spacing("001", 3.6) == pytest.approx(1.8)
    assert layer_spacing("111", 3.6) == pytest.approx(3.6 / 3**0.5)
    assert layer_spacing("110", 2.87, "bcc") == pytest.approx(2.87 / 2**0.5)
    with pytest.raises(ValueError, match="direction"):
        layer_spacing("110", 3.6)


def test_alloy_element_order_is_kept():
    plan = expand_plan(_with("alloys.0.elements", ["Fe", "Ni"]))
    s = plan.systems[0]  # Fe host with 20 % Ni: Fe0.8Ni0.2
    assert s.x == pytest.approx(0.2) and s.x_element == "Ni"
    assert s.potential.composition == (("Fe", 0.8), ("Ni", 0.2))
    assert s.lattice_constant == pytest.approx(vegard_lattice_constant({"Fe": 0.8, "Ni": 0.2}))
    assert s.composition_label == "Fe0.8Ni0.2"


def test_scf_arguments_alloy_only_settings():
    cfg = {**BASE, "scf": {"configurations": 3, "alloy_model": "supercell"},
           "thermal": [{"element": "Ni", "lattice_constant": 3.524, "delta_angstrom": [0.05]}]}
    plan = expand_plan(cfg)
    alloy = plan.systems[0].potential.label
    assert "--configurations 3" in plan.scf_args(alloy) and "--seed 0" in plan.scf_args(alloy)
    assert "--alloy-model supercell" in plan.scf_args(alloy) and "--cpa" not in plan.scf_args(alloy)
    cpa = expand_plan({**cfg, "scf": {"cpa_screening": 0.6}})     # the default model: CPA
    args = cpa.scf_args(alloy)
    assert "--alloy-model cpa --cpa-kmesh 16 --cpa-screening 0.6" in args and "--seed" not in args
    for label in ("Ni_fcc_a3.5240", "Cu_fcc_a3.5240", plan.systems[0].lead_potential.label):
        args = plan.scf_args(label)
        assert "--configurations" not in args and "--seed" not in args and "--alloy-model" not in args


def test_lead_cache_switch_is_a_resource_option_not_a_param(tmp_path):
    """transport.lead_cache toggles --lead-cache without entering any job's parameters."""
    data = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    on = expand_plan(validate_config(copy.deepcopy(data)))
    data.setdefault("transport", {})["lead_cache"] = False
    off = expand_plan(validate_config(data))
    assert f"--lead-cache {on.root}/cache/leads" in on.speed_options
    assert "--lead-cache" not in off.speed_options
    system = on.systems[0].label
    assert on.transport_args(system, "par", "soc") == off.transport_args(system, "par", "soc")


def test_plan_interfaces_study():
    cfg = {"study": "i", "seed": 3,
           "interfaces": [{"normal": "Cu", "ferromagnet": "Co", "thickness_layers": [4, 1, 2]},
                          {"name": "CuNi-mix", "normal": "Cu", "ferromagnet": "Ni", "direction": "001",
                           "lattice_constant": 3.6, "thickness_layers": [2], "intermixed_layers": 1,
                           "supercell": [2, 2], "configurations": 2}]}
    plan = expand_plan(cfg)
    assert not plan.systems and plan.table_paths() == [] and plan.figure_names() == []
    clean, mixed = plan.interfaces
    assert clean.label == "CuCo111" and clean.direction == "111" and clean.thickness == (1, 2, 4)
    assert clean.lattice_constant == pytest.approx(element_lattice_constant("Cu", "fcc"))
    assert clean.kmesh == (16, 16) and clean.supercell == (1, 1) and clean.configurations == 1
    assert set(plan.potentials()) == {f"Co_fcc_a{clean.lattice_constant:.4f}", f"Cu_fcc_a{clean.lattice_constant:.4f}",
                                      "Ni_fcc_a3.6000", "Cu_fcc_a3.6000"}
    recs = plan.interface_records()
    assert len(recs) == 3 + 2 and recs[0]["path"] == "results/i/interfaces/CuCo111/d1/c0.json"
    assert {r["intermixed_layers"] for r in recs if r["interface"] == "CuNi-mix"} == {1}
    args = plan.interface_build_args("CuNi-mix", 2, 1)
    # d pure F layers plus one intermixed layer on each side
    assert "--layers 4 " in args and "--intermixed-layers 1" in args and "--lead Cu --composition Ni" in args
    assert plan.mixing_args("CuCo111").startswith("--kmesh 16,16")
    assert [f.rsplit("/", 1)[1] for f in plan.figure_files()] == ["gmix_d.png", "gmix_d.pdf"]
    assert plan.interface_table_paths() == ["results/i/tables/interfaces.csv", "results/i/tables/interfaces.parquet"]


def test_plan_domain_walls_study():
    cfg = {"study": "w", "domain_walls": [
        {"elements": ["Ni", "Fe"], "x": 0.2, "lambda_nm": [2, 1], "length_nm": 5.0, "configurations": 2},
        {"name": "Co-wall", "elements": ["Co"], "walls": ["bloch"], "lambda_nm": [1], "length_nm": 3,
         "lattice_constant": 3.6, "bulk_reference": False, "soc": False}]}
    plan = expand_plan(cfg)
    py, co = plan.domain_walls
    assert py.label == "Ni0.8Fe0.2" and py.walls == ("neel", "rotated_neel", "bloch") and py.lambda_nm == (1.0, 2.0)
    assert py.layers % 2 == 0 and abs(py.length_nm - 5.0) < 0.2 and py.bulk_lengths == (py.layers // 2, py.layers)
    assert py.lattice_constant == pytest.approx(0.8 * 3.524 + 0.2 * 3.5961, abs=0.02)
    recs = plan.wall_records()
    assert len(recs) == 3 * 2 * 2 + 1
    assert recs[0]["path"] == "results/w/domain_walls/Ni0.8Fe0.2/neel/l1.0000/c0.json"
    assert recs[0]["bulk_path"] == "results/w/domain_walls/Ni0.8Fe0.2/bulk/full/c0.json"
    assert recs[-1]["bulk_path"] == "" and recs[-1]["soc"] is False
    assert "--nested-lengths" in plan.wall_build_args("Ni0.8Fe0.2", 1) and "--config 1" in plan.wall_build_args(
        "Ni0.8Fe0.2", 1)
    assert "--no-soc" in plan.wall_args("Co-wall") and f"--lengths {py.layers // 2},{py.layers}" in plan.wall_bulk_args(
        "Ni0.8Fe0.2")
    assert {"Ni0.8Fe0.2_fcc_a%.4f" % py.lattice_constant, "Co_fcc_a3.6000", "Cu_fcc_a3.6000"} <= set(plan.potentials())
    assert plan.wall_table_paths()[0] == "results/w/tables/domain_walls.csv"
    assert "results/w/figures/alpha_dw.png" in plan.figure_files()
    assert not plan.systems and plan.table_paths() == []


@pytest.mark.parametrize("dw, key, fragment", [
    ({"elements": ["Ni", "Fe"], "lambda_nm": [1], "length_nm": 5}, "domain_walls[0].x", "is missing"),
    ({"elements": ["Ni"], "x": 0.2, "lambda_nm": [1], "length_nm": 5}, "domain_walls[0].x", "needs two elements"),
    ({"elements": ["Xx"], "lambda_nm": [1], "length_nm": 5}, "domain_walls[0].elements[0]", "not a known element"),
    ({"elements": ["Ni"], "lambda_nm": [0], "length_nm": 5}, "domain_walls[0].lambda_nm[0]", "> 0"),
    ({"elements": ["Ni"], "lambda_nm": [1], "length_nm": 5, "walls": ["vortex"]}, "domain_walls[0].walls[0]",
     "neel"),
    ({"elements": ["Ni"], "lambda_nm": [1], "length_nm": 5, "direction": "110"}, "domain_walls[0].direction",
     "allowed: '001', '111'"),
    ({"elements": ["Ni"], "lambda_nm": [1]}, "domain_walls[0].length_nm", "missing required key"),
])
def test_bad_domain_walls_rejected(dw, key, fragment):
    with pytest.raises(ConfigError) as exc:
        validate_config({"study": "w", "domain_walls": [dw]})
    assert key in str(exc.value) and fragment in str(exc.value), str(exc.value)


@pytest.mark.parametrize("itf, key, fragment", [
    ({"normal": "Cu", "ferromagnet": "Xx", "thickness_layers": [1]}, "interfaces[0].ferromagnet", "not a known element"),
    ({"normal": "Cu", "ferromagnet": "Co", "direction": "110", "thickness_layers": [1]}, "interfaces[0].direction",
     "allowed: '001', '111'"),
    ({"normal": "Cu", "ferromagnet": "Co", "thickness_layers": [1], "configurations": 3}, "interfaces[0].configurations",
     "intermixed_layers > 0"),
    ({"normal": "Xe", "ferromagnet": "Co", "thickness_layers": [1]}, "interfaces[0].lattice_constant", "lacks"),
    ({"normal": "Cu", "ferromagnet": "Co", "thickness_layers": [0]}, "interfaces[0].thickness_layers[0]", ">= 1"),
    ({"normal": "Cu", "ferromagnet": "Co"}, "interfaces[0].thickness_layers", "missing required key"),
])
def test_bad_interfaces_rejected(itf, key, fragment):
    with pytest.raises(ConfigError) as exc:
        validate_config({"study": "i", "interfaces": [itf]})
    assert key in str(exc.value) and fragment in str(exc.value), str(exc.value)
