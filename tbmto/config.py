"""Study configuration: load, validate against ``configs/schema.yaml`` and expand into a plan.

A study config (YAML) lists alloy scans and thermal-disorder scans plus the shared geometry,
transport, SCF, fit and MPI settings (reference: ``docs/configuration.md``). This module

* fills the schema defaults and validates with :mod:`jsonschema` (Draft 2020-12), turning every
  violation into one readable line that names the key (JSON path such as ``alloys[0].x[2]``),
  the offending value and what is allowed (:func:`validate_config`, :func:`load_config`);
* applies the checks a JSON schema cannot express (at least one scan, Vegard only for Ni–Fe,
  unique system labels);
* expands the validated config into a :class:`StudyPlan`: the systems (one per alloy
  concentration x or RMS displacement Δ), the potentials they need (the slab potential and the
  Cu lead at the slab's lattice constant), and the file layout of docs/configuration.md
  (:meth:`StudyPlan.structure_path`, :meth:`StudyPlan.transport_path`, ...).

The Snakefile and the ``tbmto`` CLI share this module, so file names and per-rule parameters are
defined in exactly one place. Units: lengths in Å, energies in Ry.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tbmto.materials import atomic_number, vegard_lattice_constant

__all__ = [
    "ConfigError",
    "MAGNETIZATIONS",
    "SOC_LABELS",
    "schema_path",
    "default_config_path",
    "load_schema",
    "validate_config",
    "load_config",
    "layer_spacing_angstrom",
    "PotentialSpec",
    "SystemSpec",
    "StudyPlan",
    "expand_plan",
]

MAGNETIZATIONS: dict[str, tuple[float, float, float]] = {
    "par": (0.0, 0.0, 1.0),
    "perp": (1.0, 0.0, 0.0),
}
"""Magnetisation labels → unit vectors (current along +z: ``par`` m = ẑ, ``perp`` m = x̂)."""

SOC_LABELS: dict[bool, str] = {True: "soc", False: "nosoc"}
"""SOC switch → label used in file names and tables."""


def transport_runs(magnetizations: Sequence[str], socs: Sequence[bool],
                   damping_from: str = "par") -> list[tuple[str, bool]]:
    """(magnetization, soc) pairs of a study that are computed.

    Without SOC the secular matrix is invariant under a global rotation of m (tested: G and T
    equal to 1e−10), so ``perp`` without SOC would repeat ``par`` exactly; it is skipped when
    ``par`` is requested and α is not taken from ``perp`` alone. The no-SOC rows of the summary
    then carry ρ∥ only (ρ⊥ = ρ∥ and AMR = 0 by symmetry).

    Parameters
    ----------
    magnetizations : sequence of str
        Labels of :data:`MAGNETIZATIONS`.
    socs : sequence of bool
        SOC switches.
    damping_from : {"par", "perp", "average"}
        Runs used for α (``fit.damping_from``).
    """
    skip = "par" in magnetizations and damping_from != "perp"
    return [(m, bool(soc)) for m in magnetizations for soc in socs
            if not (skip and m == "perp" and not soc)]


SUPPORTED_ALLOYS: list[list[str]] = [["Fe", "Ni"]]
"""Element pairs (sorted) with a self-consistent alloy model in :func:`tbmto.asa.scf` ("NiFe")."""

_REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """An invalid study configuration; the message has one line per problem."""


def schema_path() -> Path:
    """Path of the JSON schema ``configs/schema.yaml`` of the repository checkout."""
    path = _REPO_ROOT / "configs" / "schema.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"config schema not found at {path}; tbmto must be installed from a repository "
            "checkout (pip install -e .)"
        )
    return path


def default_config_path() -> Path:
    """Path of the embedded default study ``configs/default.yaml``."""
    return _REPO_ROOT / "configs" / "default.yaml"


def load_schema() -> dict:
    """The study JSON schema as a dict (parsed from ``configs/schema.yaml``)."""
    with open(schema_path(), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ----------------------------------------------------------------------------- validation


def _json_path(parts) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "<top level>"


def _fill_defaults(instance: Any, schema: Mapping) -> None:
    """Insert schema defaults (deep copies) into ``instance`` in place, recursively."""
    if isinstance(instance, dict) and isinstance(schema.get("properties"), Mapping):
        for key, sub in schema["properties"].items():
            if key not in instance and "default" in sub:
                instance[key] = copy.deepcopy(sub["default"])
            if key in instance:
                _fill_defaults(instance[key], sub)
    elif isinstance(instance, list) and isinstance(schema.get("items"), Mapping):
        for item in instance:
            _fill_defaults(item, schema["items"])


def _description(root: Mapping, schema_path_parts) -> str | None:
    """Deepest ``description`` met while walking ``schema_path_parts`` down from ``root``."""
    node: Any = root
    found = None
    for part in schema_path_parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, Mapping) and "description" in node and node is not root:
            found = node["description"]
    return found


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _format_error(err, root: Mapping) -> str:
    """One readable line for a jsonschema ``ValidationError``."""
    key = _json_path(err.absolute_path)
    value = err.instance
    allowed = _description(root, list(err.absolute_schema_path)[:-1])
    hint = f" (allowed: {allowed})" if allowed else ""
    v = err.validator
    if v == "additionalProperties":
        known = sorted(err.schema.get("properties", {}))
        extra = sorted(set(value) - set(known)) if isinstance(value, Mapping) else []
        lines = []
        for k in extra:
            where = _json_path(list(err.absolute_path) + [k])
            lines.append(
                f"{where}: unknown key {k!r}; allowed keys here: {', '.join(known) or 'none'}"
            )
        return "\n".join(lines) if lines else f"{key}: {err.message}{hint}"
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        where = _json_path(list(err.absolute_path) + [missing])
        sub = err.schema.get("properties", {}).get(missing, {})
        desc = sub.get("description")
        return f"{where}: missing required key" + (f" (allowed: {desc})" if desc else "")
    if v in ("enum", "const"):
        choices = err.validator_value if v == "enum" else [err.validator_value]
        return (
            f"{key} = {_short(value)} is not allowed; allowed values: "
            + ", ".join(repr(c) for c in choices)
            + (f" ({allowed})" if allowed else "")
        )
    if v == "type":
        return (
            f"{key} = {_short(value)} has the wrong type ({type(value).__name__}); expected "
            f"{err.validator_value}{hint}"
        )
    bounds = {
        "minimum": "must be >= {}",
        "maximum": "must be <= {}",
        "exclusiveMinimum": "must be > {}",
        "exclusiveMaximum": "must be < {}",
    }
    if v in bounds:
        return f"{key} = {_short(value)} is out of range: " + bounds[v].format(err.validator_value) + hint
    if v == "minItems":
        return (
            f"{key} = {_short(value)} has {len(value)} item(s); at least {err.validator_value} "
            f"required{hint}"
        )
    if v == "maxItems":
        return (
            f"{key} = {_short(value)} has {len(value)} item(s); at most {err.validator_value} "
            f"allowed{hint}"
        )
    if v == "uniqueItems":
        return f"{key} = {_short(value)} contains duplicates; the values must be distinct{hint}"
    if v == "pattern":
        return f"{key} = {_short(value)} is not a valid name{hint}"
    if v in ("oneOf", "anyOf"):
        return f"{key} = {_short(value)} is not allowed{hint}"
    return f"{key} = {_short(value)}: {err.message}{hint}"


def _semantic_errors(cfg: Mapping) -> list[str]:
    """Checks the JSON schema cannot express; returns readable error lines."""
    errors: list[str] = []
    if not cfg.get("alloys") and not cfg.get("thermal"):
        errors.append(
            "alloys, thermal: the study has no systems; give at least one alloy scan "
            "(alloys: [...]) or thermal scan (thermal: [...])"
        )
    for i, scan in enumerate(cfg.get("alloys", [])):
        if sorted(scan["elements"]) not in SUPPORTED_ALLOYS:
            errors.append(
                f"alloys[{i}].elements = {scan['elements']!r} has no alloy potential model; "
                f"allowed pairs: {', '.join('[' + ', '.join(p) + ']' for p in SUPPORTED_ALLOYS)} "
                "(tbmto.asa.scf self-consistent alloys)"
            )
        elif scan.get("lattice_constant") == "vegard" and sorted(scan["elements"]) != ["Fe", "Ni"]:
            errors.append(
                f"alloys[{i}].lattice_constant = 'vegard' is only defined for elements [Ni, Fe] "
                f"(got {scan['elements']}); give the lattice constant in Å as a number"
            )
    names: dict[str, str] = {}
    for group, default_name in (("alloys", lambda s: "".join(s["elements"])),
                                ("thermal", lambda s: s["element"])):
        for i, scan in enumerate(cfg.get(group, [])):
            name = scan.get("name") or default_name(scan)
            where = f"{group}[{i}].name"
            if name in names:
                errors.append(
                    f"{where} = {name!r} duplicates the scan name of {names[name]}; give each "
                    "scan a distinct 'name'"
                )
            else:
                names[name] = where
    return errors


def validate_config(config: Mapping) -> dict:
    """Validate a study config and return a copy with the schema defaults filled in.

    Parameters
    ----------
    config : mapping
        Parsed YAML/JSON study configuration.

    Returns
    -------
    dict
        Deep copy of ``config`` with defaults of ``configs/schema.yaml`` inserted.

    Raises
    ------
    ConfigError
        Listing every problem, one per line, each naming the key (JSON path), the bad value
        and the allowed values.
    """
    import jsonschema

    if not isinstance(config, Mapping):
        raise ConfigError(f"<top level>: a study config must be a mapping, got {type(config).__name__}")
    schema = load_schema()
    cfg = copy.deepcopy(dict(config))
    _fill_defaults(cfg, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errs = sorted(validator.iter_errors(cfg), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    lines = [_format_error(e, schema) for e in errs]
    if not lines:
        lines = _semantic_errors(cfg)
    if lines:
        raise ConfigError("invalid study config:\n  " + "\n  ".join(lines))
    return cfg


def load_config(path: str | os.PathLike) -> dict:
    """Read a YAML study config and validate it (:func:`validate_config`).

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML or violates the schema.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return validate_config(data if data is not None else {})
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


# ----------------------------------------------------------------------------- plan


def layer_spacing_angstrom(lattice_constant: float, direction: str) -> float:
    """fcc interlayer spacing d along the transport direction, in Å.

    d = a/2 for [001] and a/√3 for [111] (same convention as :mod:`tbmto.structure`).
    """
    if direction == "001":
        return lattice_constant / 2.0
    if direction == "111":
        return lattice_constant / math.sqrt(3.0)
    raise ValueError(f"direction must be '001' or '111', got {direction!r}")


def _fmt(v: float) -> str:
    """Shortest float repr that round-trips (for CLI arguments)."""
    return repr(float(v))


@dataclass(frozen=True)
class PotentialSpec:
    """One self-consistent ASA potential file.

    Attributes
    ----------
    label : str
        File stem under ``potentials/``, e.g. ``NiFe_x0.2000_a3.5480`` or ``Cu_a3.5480``.
    system : str
        ``tbmto.asa.scf`` system: an element ("Cu", "Ni") or an alloy ("NiFe").
    lattice_constant : float
        fcc lattice constant in Å.
    x : float or None
        Solute (second element) fraction for an alloy, None for an element.
    """

    label: str
    system: str
    lattice_constant: float
    x: float | None

    def cli_args(self, scf: Mapping, seed: int) -> str:
        """Arguments of ``tbmto scf`` for this potential with SCF settings ``scf``."""
        args = [
            f"--system {self.system}",
            "--lattice fcc",
            f"--a {_fmt(self.lattice_constant)}",
        ]
        if self.x is not None:
            args.append(f"--x {_fmt(self.x)}")
        args += [
            f"--kmesh {int(scf['kmesh'])}",
            f"--smearing-Ry {_fmt(scf['smearing_Ry'])}",
            f"--max-iter {int(scf['max_iter'])}",
            f"--tol-Ry {_fmt(scf['tol_Ry'])}",
        ]
        if self.x is not None:  # seed and occupations only enter the alloy SCF supercell
            args.append(f"--seed {int(seed)}")
            args.append(f"--configurations {int(scf['configurations'])}")
        return " ".join(args)


@dataclass(frozen=True)
class SystemSpec:
    """One scattering-region system (an alloy concentration or a thermal displacement).

    Attributes
    ----------
    label : str
        Directory name, ``<scan>_x<x:.4f>`` (alloys) or ``<scan>_d<Δ:.5f>`` (thermal, Δ in Å).
    scan, kind : str
        Scan name and ``"alloy"`` or ``"thermal"``.
    composition : tuple of (str, float)
        Slab composition (element, fraction), fractions summing to 1.
    x : float
        Solute fraction (alloys; 0 for thermal scans).
    lattice_constant : float
        Lattice constant of slab and leads in Å.
    delta_angstrom : float
        RMS displacement Δ in Å (0 for alloys).
    potential, lead_potential : PotentialSpec
        Slab potential and lead potential (same lattice constant).
    """

    label: str
    scan: str
    kind: str
    composition: tuple[tuple[str, float], ...]
    x: float
    lattice_constant: float
    delta_angstrom: float
    potential: PotentialSpec
    lead_potential: PotentialSpec

    @property
    def x_fe(self) -> float:
        """Fe fraction of the slab (0 when there is no Fe)."""
        return dict(self.composition).get("Fe", 0.0)

    @property
    def delta_over_a(self) -> float:
        """Δ / a (dimensionless)."""
        return self.delta_angstrom / self.lattice_constant

    def composition_arg(self) -> str:
        """``--composition`` argument, e.g. ``Ni=0.8,Fe=0.2``."""
        return ",".join(f"{el}={_fmt(f)}" for el, f in self.composition)


@dataclass(frozen=True)
class StudyPlan:
    """The expanded study: systems × lengths × configurations × magnetisations × SOC.

    Built by :func:`expand_plan`; all paths are relative to the Snakemake working directory.
    """

    study: str
    root: str
    seed: int
    systems: tuple[SystemSpec, ...]
    direction: str
    supercell: tuple[int, int]
    lengths: tuple[int, ...]
    configurations: int
    lead: str
    nested: bool
    kmesh: tuple[int, int]
    soc: tuple[bool, ...]
    magnetizations: tuple[str, ...]
    damping: bool
    lead_cache: bool
    soc_form: str
    linearisation: str
    kgrid: str
    memory_limit_gb: float | None
    scf: Mapping
    fit: Mapping
    ranks: int
    launcher: str

    # ---- lookups
    def system(self, label: str) -> SystemSpec:
        """The system with directory name ``label`` (KeyError naming the known ones)."""
        for s in self.systems:
            if s.label == label:
                return s
        raise KeyError(f"unknown system {label!r}; known: {', '.join(s.label for s in self.systems)}")

    def potentials(self) -> dict[str, PotentialSpec]:
        """All potential files of the study keyed by label (slab and lead potentials)."""
        out: dict[str, PotentialSpec] = {}
        for s in self.systems:
            out[s.potential.label] = s.potential
            out[s.lead_potential.label] = s.lead_potential
        return out

    # ---- paths (layout: docs/configuration.md)
    def potential_path(self, label: str) -> str:
        return f"{self.root}/potentials/{label}.json"

    def structure_path(self, system: str, L: int, config: int) -> str:
        """Structure of (system, L, configuration); with ``nested`` one file per configuration
        (the longest length, whose prefixes are the shorter ones) for every L."""
        if self.nested:
            return f"{self.root}/structures/{system}/c{config}.extxyz"
        return f"{self.root}/structures/{system}/L{L}/c{config}.extxyz"

    def transport_path(self, system: str, L: int, config: int, m: str, soc: bool | str) -> str:
        soc_label = soc if isinstance(soc, str) else SOC_LABELS[bool(soc)]
        return f"{self.root}/transport/{system}/L{L}/c{config}_{m}_{soc_label}.json"

    @property
    def tables_dir(self) -> str:
        return f"{self.root}/tables"

    @property
    def figures_dir(self) -> str:
        return f"{self.root}/figures"

    @property
    def logs_dir(self) -> str:
        return f"{self.root}/logs"

    def table_paths(self) -> list[str]:
        """transport/fits/summary tables, CSV and parquet."""
        return [
            f"{self.tables_dir}/{name}.{ext}"
            for name in ("transport", "fits", "summary")
            for ext in ("csv", "parquet")
        ]

    def structure_files(self) -> list[str]:
        return list(dict.fromkeys(
            self.structure_path(s.label, L, c)
            for s in self.systems
            for L in self.lengths
            for c in range(self.configurations)
        ))

    def transport_runs(self) -> list[tuple[str, bool]]:
        """(magnetization, soc) pairs that are computed (:func:`transport_runs`)."""
        return transport_runs(self.magnetizations, self.soc, self.fit["damping_from"])

    def transport_files(self) -> list[str]:
        runs = self.transport_runs()
        return [
            self.transport_path(s.label, L, c, m, soc)
            for s in self.systems
            for L in self.lengths
            for c in range(self.configurations)
            for m, soc in runs
        ]

    def figure_names(self) -> list[str]:
        """Figure stems produced for this study (see :mod:`tbmto.plots`).

        Always the R(L) fit figure and, with damping, the T(L) fit figure; ρ(x), AMR(x), α(x)
        when an alloy scan has ≥ 2 concentrations; ρ(Δ), α(Δ) when a thermal scan has ≥ 2
        displacements. AMR needs both magnetisations, α needs damping.
        """
        names = ["fit_resistance"]
        if self.damping:
            names.append("fit_damping")
        both = {"par", "perp"} <= set(self.magnetizations)
        counts: dict[tuple[str, str], int] = {}
        for s in self.systems:
            counts[(s.kind, s.scan)] = counts.get((s.kind, s.scan), 0) + 1
        if any(n >= 2 for (k, _), n in counts.items() if k == "alloy"):
            names.append("rho_x")
            if both:
                names.append("amr_x")
            if self.damping:
                names.append("alpha_x")
        if any(n >= 2 for (k, _), n in counts.items() if k == "thermal"):
            names.append("rho_delta")
            if self.damping:
                names.append("alpha_delta")
        return names

    def figure_files(self) -> list[str]:
        return [f"{self.figures_dir}/{n}.{ext}" for n in self.figure_names() for ext in ("png", "pdf")]

    # ---- per-rule command-line arguments (carry only what each rule depends on)
    def scf_args(self, label: str) -> str:
        """``tbmto scf`` arguments of potential ``label``."""
        pots = self.potentials()
        if label not in pots:
            raise KeyError(f"unknown potential {label!r}; known: {', '.join(pots)}")
        return pots[label].cli_args(self.scf, self.seed)

    def build_args(self, system: str, L: int | None, config: int) -> str:
        """``tbmto build`` arguments of one structure (``L`` None with ``nested``: the longest
        length with ``--nested-lengths``)."""
        s = self.system(system)
        if self.nested:
            layers = [f"--layers {self.lengths[-1]}", f"--nested-lengths {','.join(map(str, self.lengths))}"]
        else:
            layers = [f"--layers {int(L)}"]
        return " ".join(
            [
                f"--direction {self.direction}",
                f"--supercell {self.supercell[0]},{self.supercell[1]}",
                *layers,
                f"--a {_fmt(s.lattice_constant)}",
                f"--lead {self.lead}",
                f"--composition {s.composition_arg()}",
                f"--delta {_fmt(s.delta_angstrom)}",
                f"--seed {self.seed}",
                f"--config {int(config)}",
                f"--system {s.label}",
            ]
        )

    @property
    def speed_options(self) -> str:
        """``tbmto transport`` options that change no number: ``--no-progress`` (logs), then
        ``--lead-cache <root>/cache/leads`` when ``transport.lead_cache`` is on and
        ``--memory-limit-gb X`` when ``transport.memory_limit_gb`` is set.

        Not part of the rule's params or shell text (the rule passes them as a resource), so
        switching them must not rerun any job.
        """
        opts = ["--no-progress"]
        if self.lead_cache:
            opts.append(f"--lead-cache {self.root}/cache/leads")
        if self.memory_limit_gb is not None:
            opts.append(f"--memory-limit-gb {_fmt(self.memory_limit_gb)}")
        return " ".join(opts)

    def transport_args(self, system: str, m: str, soc: str) -> str:
        """``tbmto transport`` arguments (physics settings + table metadata) of one job."""
        s = self.system(system)
        if m not in MAGNETIZATIONS:
            raise KeyError(f"unknown magnetization {m!r}; allowed: {', '.join(MAGNETIZATIONS)}")
        if soc not in SOC_LABELS.values():
            raise KeyError(f"unknown soc label {soc!r}; allowed: soc, nosoc")
        args = [
            f"--magnetization {m}",
            "--soc" if soc == "soc" else "--no-soc",
            f"--kmesh {self.kmesh[0]},{self.kmesh[1]}",
            f"--kgrid {self.kgrid}",
            f"--linearisation {self.linearisation}",
            f"--soc-form {self.soc_form}",
        ]
        if self.damping:
            args.append("--damping")
        if self.nested:
            args.append(f"--lengths {','.join(map(str, self.lengths))}")
        meta = {
            "system": s.label,
            "scan": s.scan,
            "kind": s.kind,
            "x": _fmt(s.x),
            "x_fe": _fmt(s.x_fe),
            "delta_angstrom": _fmt(s.delta_angstrom),
            "lattice_constant_angstrom": _fmt(s.lattice_constant),
            "direction": self.direction,
        }
        args += [f"--meta {k}={v}" for k, v in meta.items()]
        return " ".join(args)

    def fit_args(self) -> str:
        """``tbmto fit`` arguments: the transport grid and the fit settings."""
        return " ".join(
            [
                f"--transport-dir {self.root}/transport",
                f"--systems {','.join(s.label for s in self.systems)}",
                f"--lengths {','.join(str(L) for L in self.lengths)}",
                f"--configurations {self.configurations}",
                f"--magnetizations {','.join(self.magnetizations)}",
                f"--soc {','.join(SOC_LABELS[b] for b in self.soc)}",
                f"--method {self.fit['method']}",
                f"--g-factor {_fmt(self.fit['g_factor'])}",
                f"--damping-from {self.fit['damping_from']}",
            ]
        )


def _potential_label(system: str, a: float, x: float | None) -> str:
    return f"{system}_x{x:.4f}_a{a:.4f}" if x is not None else f"{system}_a{a:.4f}"


def expand_plan(config: Mapping) -> StudyPlan:
    """Expand a study config into a :class:`StudyPlan`.

    Parameters
    ----------
    config : mapping
        A study config; validated (and defaults filled) by :func:`validate_config` first.

    Returns
    -------
    StudyPlan

    Raises
    ------
    ConfigError
        If the config is invalid or two systems/potentials would share a file name.
    """
    cfg = validate_config(config)
    geo, tr = cfg["geometry"], cfg["transport"]
    lead = geo["lead"]
    systems: list[SystemSpec] = []
    pots: dict[str, PotentialSpec] = {}

    def potential(system: str, a: float, x: float | None) -> PotentialSpec:
        spec = PotentialSpec(_potential_label(system, a, x), system, float(a), None if x is None else float(x))
        old = pots.get(spec.label)
        if old is not None and old != spec:
            raise ConfigError(
                f"invalid study config:\n  potentials {old} and {spec} share the file name "
                f"{spec.label!r}; make the lattice constants or concentrations differ by ≥ 1e-4"
            )
        pots[spec.label] = spec
        return spec

    for scan in cfg["alloys"]:
        host, solute = scan["elements"]
        name = scan.get("name") or host + solute
        for x in sorted(scan["x"]):
            x = float(x)
            x_fe = x if solute == "Fe" else 1.0 - x  # the only alloy model is NiFe (x = Fe fraction)
            a = vegard_lattice_constant(x_fe) if scan["lattice_constant"] == "vegard" else float(scan["lattice_constant"])
            systems.append(
                SystemSpec(
                    label=f"{name}_x{x:.4f}",
                    scan=name,
                    kind="alloy",
                    composition=((host, 1.0 - x), (solute, x)),
                    x=x,
                    lattice_constant=a,
                    delta_angstrom=0.0,
                    potential=potential("NiFe", a, x_fe),
                    lead_potential=potential(lead, a, None),
                )
            )
    for scan in cfg["thermal"]:
        el = scan["element"]
        atomic_number(el)
        name = scan.get("name") or el
        a = float(scan["lattice_constant"])
        deltas = (
            [float(d) for d in scan["delta_angstrom"]]
            if "delta_angstrom" in scan
            else [float(r) * a for r in scan["delta_over_a"]]
        )
        for d in sorted(deltas):
            systems.append(
                SystemSpec(
                    label=f"{name}_d{d:.5f}",
                    scan=name,
                    kind="thermal",
                    composition=((el, 1.0),),
                    x=0.0,
                    lattice_constant=a,
                    delta_angstrom=d,
                    potential=potential(el, a, None),
                    lead_potential=potential(lead, a, None),
                )
            )
    labels = [s.label for s in systems]
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise ConfigError(
            f"invalid study config:\n  systems {dup} appear twice (same scan name and x or Δ "
            "rounded to the label precision); remove the duplicates or rename a scan"
        )
    return StudyPlan(
        study=cfg["study"],
        root=f"{cfg['results_dir'].rstrip('/')}/{cfg['study']}",
        seed=int(cfg["seed"]),
        systems=tuple(systems),
        direction=geo["direction"],
        supercell=(int(geo["supercell"][0]), int(geo["supercell"][1])),
        lengths=tuple(sorted(int(L) for L in geo["lengths"])),
        configurations=int(geo["configurations"]),
        lead=lead,
        nested=bool(geo["nested"]),
        kmesh=(int(tr["kmesh"][0]), int(tr["kmesh"][1])),
        soc=tuple(bool(b) for b in tr["soc"]),
        magnetizations=tuple(tr["magnetization"]),
        damping=bool(tr["damping"]),
        lead_cache=bool(tr["lead_cache"]),
        soc_form=str(tr["soc_form"]),
        linearisation=str(tr["linearisation"]),
        kgrid=str(tr["kgrid"]),
        memory_limit_gb=None if tr["memory_limit_gb"] is None else float(tr["memory_limit_gb"]),
        scf=dict(cfg["scf"]),
        fit=dict(cfg["fit"]),
        ranks=int(cfg["mpi"]["ranks"]),
        launcher=cfg["mpi"]["launcher"],
    )
