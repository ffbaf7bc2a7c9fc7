"""Study configuration: load, validate against ``configs/schema.yaml`` and expand into a plan.

A study config (YAML) lists alloy scans and thermal-disorder scans plus the shared geometry,
transport, SCF, fit and MPI settings (reference: ``docs/configuration.md``). This module

* fills the schema defaults and validates with :mod:`jsonschema` (Draft 2020-12), turning every
  violation into one readable line that names the key (JSON path such as ``alloys[0].x[2]``),
  the offending value and what is allowed (:func:`validate_config`, :func:`load_config`);
* applies the checks a JSON schema cannot express (at least one scan, known elements,
  compositions summing to 1, a transport direction the scan's lattice has, table data for
  Vegard's law, unique scan names);
* expands the validated config into a :class:`StudyPlan`: the systems (one per alloy
  composition or RMS displacement Δ, any elements, fcc or bcc), the potentials they need (the
  slab potential and the lead metal in the slab's lattice at the slab's lattice constant), the
  file layout of docs/configuration.md (:meth:`StudyPlan.structure_path`,
  :meth:`StudyPlan.transport_path`, ...) and the metadata of every result
  (:meth:`StudyPlan.system_records`, :meth:`StudyPlan.run_records`).

The Snakefile and the ``tbmto`` CLI share this module, so file names, per-rule parameters and
table metadata are defined in exactly one place; the table code (:mod:`tbmto.tables`) joins the
results on the plan's tables and does not import this module. Units: lengths in Å, energies in
Ry.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tbmto.composition import SUM_TOL, check_composition, composition_label
from tbmto.materials import (ATOMIC_NUMBER, ELEMENT_DATA, atomic_number, element_lattice_constant,
                             vegard_lattice_constant)
from tbmto.structure import LATTICE_DIRECTIONS, layer_spacing

__all__ = [
    "ConfigError",
    "MAGNETIZATIONS",
    "SOC_LABELS",
    "schema_path",
    "package_file",
    "default_config_path",
    "load_schema",
    "validate_config",
    "load_config",
    "PotentialSpec",
    "SystemSpec",
    "InterfaceSpec",
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


class ConfigError(ValueError):
    """An invalid study configuration; the message has one line per problem."""


def package_file(*parts: str) -> Path:
    """Path of a data file shipped inside the tbmto package (``importlib.resources``).

    Parameters
    ----------
    *parts : str
        Path components below the package directory, e.g. ``("data", "schema.yaml")``.

    Returns
    -------
    pathlib.Path
        The file on disk: in a repository checkout (editable install) and in an installed wheel
        alike, since both are plain directories (the Snakefile includes its rules by relative
        path, so a zipped package would not run anyway).

    Raises
    ------
    FileNotFoundError
        If the file is not part of this installation (the message names the path and the
        packaging rule that ships it).
    """
    from importlib.resources import files

    res = files("tbmto").joinpath(*parts)
    path = Path(str(res))
    if not path.is_file():
        raise FileNotFoundError(
            f"package data file {'/'.join(parts)} not found at {path}: the installation of tbmto is "
            "incomplete (pyproject.toml [tool.setuptools.package-data] ships tbmto/data/*.yaml and "
            "tbmto/workflow/); reinstall with pip install ."
        )
    return path


def schema_path() -> Path:
    """Path of the study JSON schema, package data ``tbmto/data/schema.yaml`` (linked from
    ``configs/schema.yaml`` in the checkout)."""
    return package_file("data", "schema.yaml")


def default_config_path() -> Path:
    """Path of the embedded default study, package data ``tbmto/data/default.yaml`` (linked from
    ``configs/default.yaml`` in the checkout)."""
    return package_file("data", "default.yaml")


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


def _element_error(where: str, symbol) -> str | None:
    """Error line for a symbol that is not an element the SCF handles (Li on), else None."""
    try:
        z = atomic_number(symbol)
    except ValueError:
        return (f"{where} = {symbol!r} is not a known element; allowed: element symbols from Li "
                f"on ({', '.join(list(ATOMIC_NUMBER)[2:])})")
    if z < 3:
        return f"{where} = {symbol!r} has no s, p, d valence set; allowed: elements from Li on"
    return None


def _direction_error(where: str, direction: str, lattice: str) -> str | None:
    """The error line of a transport ``direction`` that the ``lattice`` lacks, else None."""
    if direction in LATTICE_DIRECTIONS[lattice]:
        return None
    return (f"{where}.direction = {direction!r} does not exist for the {lattice} lattice; allowed: "
            + ", ".join(repr(d) for d in LATTICE_DIRECTIONS[lattice]))


def _scan_compositions(scan: Mapping) -> list[dict[str, float]]:
    """The compositions of an alloy scan (``elements`` + ``x`` or ``compositions``), as given."""
    if "compositions" in scan:
        return [dict(c) for c in scan["compositions"]]
    host, solute = scan["elements"]
    return [{host: 1.0 - float(x), solute: float(x)} for x in scan["x"]]


def _semantic_errors(cfg: Mapping) -> list[str]:
    """Checks the JSON schema cannot express; returns readable error lines."""
    errors: list[str] = []
    if not any(cfg.get(k) for k in ("alloys", "thermal", "interfaces", "domain_walls")):
        errors.append(
            "alloys, thermal, interfaces, domain_walls: the study has nothing to compute; give at least one "
            "alloy scan (alloys: [...]), thermal scan (thermal: [...]), interface (interfaces: [...]) or "
            "domain-wall study (domain_walls: [...])"
        )
    errors += _wall_errors(cfg)
    for i, itf in enumerate(cfg.get("interfaces", [])):
        where = f"interfaces[{i}]"
        bad = [e for e in (_element_error(f"{where}.{k}", itf[k]) for k in ("normal", "ferromagnet")) if e]
        errors += bad
        errors += [e for e in [_direction_error(where, itf["direction"], itf["lattice"])] if e]
        if not bad and itf["lattice_constant"] == "vegard" and itf["normal"] not in ELEMENT_DATA:
            errors.append(f"{where}.lattice_constant = 'vegard' needs table data for {itf['normal']}, which "
                          "tbmto.materials.ELEMENT_DATA lacks; give the lattice constant in Å as a number")
        if itf["configurations"] > 1 and itf["intermixed_layers"] == 0:
            errors.append(f"{where}.configurations = {itf['configurations']} needs intermixed_layers > 0: a clean "
                          "interface has no disorder, every configuration would be the same")
    direction = cfg["geometry"]["direction"]
    lead_err = _element_error("geometry.lead", cfg["geometry"]["lead"])
    if lead_err:
        errors.append(lead_err)
    for group in ("alloys", "thermal"):
        for i, scan in enumerate(cfg.get(group, [])):
            where = f"{group}[{i}]"
            lattice = scan["lattice"]
            if direction not in LATTICE_DIRECTIONS[lattice]:
                errors.append(
                    f"geometry.direction = {direction!r} does not exist for the {lattice} lattice "
                    f"of {where}; allowed for {lattice}: "
                    + ", ".join(repr(d) for d in LATTICE_DIRECTIONS[lattice]))
            if group == "alloys":
                keyed = ([(f"{where}.elements[{j}]", el) for j, el in enumerate(scan["elements"])]
                         if "elements" in scan else
                         [(f"{where}.compositions[{j}]", el)
                          for j, c in enumerate(scan["compositions"]) for el in c])
            else:
                keyed = [(f"{where}.element", scan["element"])]
            bad = [e for e in (_element_error(k, el) for k, el in keyed) if e]
            errors += list(dict.fromkeys(bad))
            if bad:
                continue
            comps = (_scan_compositions(scan) if group == "alloys"
                     else [{scan["element"]: 1.0}])
            for j, comp in enumerate(comps):
                total = sum(comp.values())
                if "compositions" in scan and abs(total - 1.0) > SUM_TOL:
                    errors.append(f"{where}.compositions[{j}] = {comp!r}: the fractions sum to "
                                  f"{total!r}; they must sum to 1 (within {SUM_TOL:g})")
            if scan["lattice_constant"] == "vegard":
                missing = sorted({el for c in comps for el in c if el not in ELEMENT_DATA})
                if missing:
                    errors.append(
                        f"{where}.lattice_constant = 'vegard' needs table data for "
                        f"{', '.join(missing)}, which tbmto.materials.ELEMENT_DATA lacks; give "
                        f"the lattice constant in Å as a number (elements with data: "
                        f"{', '.join(ELEMENT_DATA)})")
    itf_names: dict[str, str] = {}
    for i, itf in enumerate(cfg.get("interfaces", [])):
        name = _interface_name(itf)
        if name in itf_names:
            errors.append(f"interfaces[{i}].name = {name!r} duplicates the name of {itf_names[name]}; give "
                          "each interface a distinct 'name'")
        itf_names[name] = f"interfaces[{i}]"
    names: dict[str, str] = {}
    for group in ("alloys", "thermal"):
        for i, scan in enumerate(cfg.get(group, [])):
            name = _scan_name(group, scan)
            where = f"{group}[{i}].name"
            if name in names:
                errors.append(
                    f"{where} = {name!r} duplicates the scan name of {names[name]}; give each "
                    "scan a distinct 'name'"
                )
            else:
                names[name] = where
    return errors


def _wall_composition(dw: Mapping) -> dict[str, float]:
    """{element: fraction} of a ``domain_walls`` entry (one element, or [A, B] with x of B)."""
    els = dw["elements"]
    if len(els) == 1:
        return {els[0]: 1.0}
    return {els[0]: 1.0 - float(dw["x"]), els[1]: float(dw["x"])}


def _wall_name(dw: Mapping) -> str:
    """Domain-wall study name: ``name`` or the composition label (e.g. ``Ni0.8Fe0.2``)."""
    return dw.get("name") or composition_label(_wall_composition(dw))


def _wall_errors(cfg: Mapping) -> list[str]:
    """Semantic errors of the ``domain_walls`` entries (elements, x, direction, names)."""
    errors, names = [], {}
    for i, dw in enumerate(cfg.get("domain_walls", [])):
        where, n0 = f"domain_walls[{i}]", len(errors)
        bad = [e for e in (_element_error(f"{where}.elements[{j}]", el) for j, el in enumerate(dw["elements"])) if e]
        if "lead" in dw:
            bad += [e for e in [_element_error(f"{where}.lead", dw["lead"])] if e]
        errors += bad
        if len(dw["elements"]) == 2 and "x" not in dw:
            errors.append(f"{where}.x is missing: with two elements {dw['elements']} give x, the fraction of "
                          f"{dw['elements'][1]} in (0, 1)")
        if len(dw["elements"]) == 1 and "x" in dw:
            errors.append(f"{where}.x = {dw['x']!r} needs two elements; {dw['elements']} is one")
        errors += [e for e in [_direction_error(where, dw["direction"], dw["lattice"])] if e]
        if not bad and dw["lattice_constant"] == "vegard":
            missing = [el for el in dw["elements"] if el not in ELEMENT_DATA]
            if missing:
                errors.append(f"{where}.lattice_constant = 'vegard' needs table data for {', '.join(missing)}, "
                              "which tbmto.materials.ELEMENT_DATA lacks; give the lattice constant in Å")
        if len(errors) > n0:
            continue
        name = _wall_name(dw)
        if name in names:
            errors.append(f"{where}.name = {name!r} duplicates the name of {names[name]}; give each "
                          "domain-wall study a distinct 'name'")
        names[name] = where
    return errors


def _interface_name(itf: Mapping) -> str:
    """Interface name: ``name`` or normal + ferromagnet + direction (e.g. ``CuCo111``)."""
    return itf.get("name") or f"{itf['normal']}{itf['ferromagnet']}{itf['direction']}"


def _scan_name(group: str, scan: Mapping) -> str:
    """Scan name: ``name`` or the elements joined in order of appearance (alloys), the element
    (thermal)."""
    if scan.get("name"):
        return scan["name"]
    if group == "thermal":
        return scan["element"]
    if "elements" in scan:
        return "".join(scan["elements"])
    return "".join(dict.fromkeys(el for c in scan["compositions"] for el in c))


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


def _fmt(v: float) -> str:
    """Shortest float repr that round-trips (for CLI arguments)."""
    return repr(float(v))


def _composition_arg(composition: Sequence[tuple[str, float]]) -> str:
    """``--composition`` argument, e.g. ``Ni=0.8,Fe=0.2`` (``Cu`` for an element)."""
    if len(composition) == 1:
        return composition[0][0]
    return ",".join(f"{el}={_fmt(f)}" for el, f in composition)


@dataclass(frozen=True)
class PotentialSpec:
    """One self-consistent ASA potential file.

    Attributes
    ----------
    label : str
        File stem under ``potentials/``: ``<composition label>_<lattice>_a<a:.4f>``, e.g.
        ``Ni0.8Fe0.2_fcc_a3.5480`` or ``Cu_fcc_a3.5480``.
    composition : tuple of (str, float)
        {element: fraction > 0} as pairs; one pair for an element.
    lattice : str
        ``"fcc"`` or ``"bcc"``.
    lattice_constant : float
        Cubic lattice constant in Å.
    """

    label: str
    composition: tuple[tuple[str, float], ...]
    lattice: str
    lattice_constant: float

    @property
    def is_alloy(self) -> bool:
        return len(self.composition) > 1

    def cli_args(self, scf: Mapping, seed: int) -> str:
        """Arguments of ``tbmto scf`` for this potential with SCF settings ``scf``."""
        args = [
            f"--composition {_composition_arg(self.composition)}",
            f"--lattice {self.lattice}",
            f"--a {_fmt(self.lattice_constant)}",
            f"--kmesh {int(scf['kmesh'])}",
            f"--smearing-Ry {_fmt(scf['smearing_Ry'])}",
            f"--max-iter {int(scf['max_iter'])}",
            f"--tol-Ry {_fmt(scf['tol_Ry'])}",
        ]
        if self.is_alloy:  # the alloy model and its settings only enter the alloy SCF
            args.append(f"--alloy-model {scf['alloy_model']}")
            if scf["alloy_model"] == "supercell":
                args.append(f"--seed {int(seed)}")
                args.append(f"--configurations {int(scf['configurations'])}")
            else:
                args.append(f"--cpa-kmesh {int(scf['cpa_kmesh'])}")
                if scf["cpa_screening"] is not None:
                    args.append(f"--cpa-screening {_fmt(scf['cpa_screening'])}")
        return " ".join(args)


@dataclass(frozen=True)
class SystemSpec:
    """One scattering-region system (an alloy composition or a thermal displacement).

    Attributes
    ----------
    label : str
        Directory name: ``<scan>_x<x:.4f>`` (``elements`` + ``x`` scans),
        ``<scan>_<composition label>`` (``compositions`` scans) or ``<scan>_d<Δ:.5f>``
        (thermal, Δ in Å).
    scan, kind : str
        Scan name and ``"alloy"`` or ``"thermal"``.
    composition : tuple of (str, float)
        Slab composition (element, fraction > 0), fractions summing to 1.
    x : float
        The scanned concentration: the fraction of ``x_element`` (alloys; 0 for thermal).
    x_element : str
        Element whose fraction the scan varies: the second of ``elements``, or for a
        ``compositions`` scan the element whose fraction varies most ("" for thermal scans).
    lattice : str
        ``"fcc"`` or ``"bcc"`` (slab and leads).
    lattice_constant : float
        Lattice constant of slab and leads in Å.
    delta_angstrom : float
        RMS displacement Δ in Å (0 for alloys).
    potential, lead_potential : PotentialSpec
        Slab potential and lead potential (same lattice and lattice constant).
    """

    label: str
    scan: str
    kind: str
    composition: tuple[tuple[str, float], ...]
    x: float
    x_element: str
    lattice: str
    lattice_constant: float
    delta_angstrom: float
    potential: PotentialSpec
    lead_potential: PotentialSpec

    @property
    def composition_label(self) -> str:
        """Chemical label, e.g. ``Fe0.75Co0.25`` (:func:`tbmto.composition.composition_label`)."""
        return composition_label(dict(self.composition))

    @property
    def delta_over_a(self) -> float:
        """Δ / a (dimensionless)."""
        return self.delta_angstrom / self.lattice_constant

    def composition_arg(self) -> str:
        """``--composition`` argument, e.g. ``Ni=0.8,Fe=0.2``."""
        return _composition_arg(self.composition)


@dataclass(frozen=True)
class InterfaceSpec:
    """One N | F(d) | N interface series of an ``interfaces:`` entry.

    Attributes
    ----------
    label : str
        Interface name (paths and the ``interface`` column).
    normal, ferromagnet, lattice, direction : str
    lattice_constant : float
        Shared lattice constant (Å).
    thickness : tuple of int
        Pure F layers d.
    intermixed : int
        50/50 N–F layers at each interface (the slab has d + 2·intermixed layers).
    supercell, kmesh : tuple of 2 int
    configurations : int
    normal_potential, ferromagnet_potential : PotentialSpec
    """

    label: str
    normal: str
    ferromagnet: str
    lattice: str
    direction: str
    lattice_constant: float
    thickness: tuple[int, ...]
    intermixed: int
    supercell: tuple[int, int]
    kmesh: tuple[int, int]
    configurations: int
    normal_potential: PotentialSpec
    ferromagnet_potential: PotentialSpec


@dataclass(frozen=True)
class DomainWallSpec:
    """One ``domain_walls:`` entry: walls of several types and widths in one set of structures.

    Attributes
    ----------
    label : str
        Name (paths and the ``domain_wall`` column).
    composition : tuple of (str, float)
    lattice, direction, lead : str
    lattice_constant : float
        Ferromagnet and lead lattice constant (Å).
    walls : tuple of str
        Wall types (:data:`tbmto.structure.WALL_KINDS`).
    lambda_nm : tuple of float
        λ_w (nm), ascending.
    layers : int
        Slab length in atomic layers (even: the bulk reference uses half of it).
    supercell, kmesh : tuple of 2 int
    configurations : int
    soc, bulk_reference : bool
    potential, lead_potential : PotentialSpec
    """

    label: str
    composition: tuple[tuple[str, float], ...]
    lattice: str
    direction: str
    lead: str
    lattice_constant: float
    walls: tuple[str, ...]
    lambda_nm: tuple[float, ...]
    layers: int
    supercell: tuple[int, int]
    kmesh: tuple[int, int]
    configurations: int
    soc: bool
    bulk_reference: bool
    potential: PotentialSpec
    lead_potential: PotentialSpec

    @property
    def length_nm(self) -> float:
        """Slab length (nm) of :attr:`layers`."""
        return self.layers * layer_spacing(self.direction, self.lattice_constant, self.lattice) / 10.0

    @property
    def bulk_lengths(self) -> tuple[int, int]:
        """Slab lengths (layers) of the bulk reference: half and full."""
        return self.layers // 2, self.layers


@dataclass(frozen=True)
class StudyPlan:
    """The expanded study: systems × lengths × configurations × magnetisations × SOC.

    Built by :func:`expand_plan`; the one authority for the systems, the file layout and the
    metadata of every result (the tables of :meth:`system_records` and :meth:`run_records`,
    written to :attr:`systems_table` and :attr:`runs_table`, are what the result tables join
    on). All paths are relative to the Snakemake working directory.
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
    config: Mapping
    interfaces: tuple[InterfaceSpec, ...] = ()
    domain_walls: tuple[DomainWallSpec, ...] = ()

    # ---- lookups
    def system(self, label: str) -> SystemSpec:
        """The system with directory name ``label`` (KeyError naming the known ones)."""
        for s in self.systems:
            if s.label == label:
                return s
        raise KeyError(f"unknown system {label!r}; known: {', '.join(s.label for s in self.systems)}")

    def potentials(self) -> dict[str, PotentialSpec]:
        """All potential files of the study keyed by label (slab, lead and interface potentials)."""
        out: dict[str, PotentialSpec] = {}
        for s in self.systems:
            out[s.potential.label] = s.potential
            out[s.lead_potential.label] = s.lead_potential
        for itf in self.interfaces:
            out[itf.ferromagnet_potential.label] = itf.ferromagnet_potential
            out[itf.normal_potential.label] = itf.normal_potential
        for dw in self.domain_walls:
            out[dw.potential.label] = dw.potential
            out[dw.lead_potential.label] = dw.lead_potential
        return out

    # ---- domain walls
    def domain_wall(self, label: str) -> DomainWallSpec:
        """The domain-wall study ``label`` (KeyError naming the known ones)."""
        for dw in self.domain_walls:
            if dw.label == label:
                return dw
        raise KeyError(f"unknown domain-wall study {label!r}; known: {', '.join(d.label for d in self.domain_walls)}")

    def wall_structure_path(self, label: str, config: int | str) -> str:
        """Structure of one configuration of a domain-wall study (``config`` may be the rules'
        ``"{conf}"`` wildcard)."""
        return f"{self.root}/domain_walls/{label}/c{config}.extxyz"

    def wall_path(self, label: str, wall: str, lam_nm: float, config: int) -> str:
        return f"{self.root}/domain_walls/{label}/{wall}/l{float(lam_nm):.4f}/c{int(config)}.json"

    def wall_bulk_path(self, label: str, which: str, config: int) -> str:
        """Bulk-reference result of one configuration at the ``half`` or ``full`` slab length."""
        if which not in ("half", "full"):
            raise KeyError(f"which must be 'half' or 'full', got {which!r}")
        return f"{self.root}/domain_walls/{label}/bulk/{which}/c{int(config)}.json"

    @property
    def walls_plan_table(self) -> str:
        """Path of the plan's domain-walls table (:meth:`wall_records`, CSV)."""
        return f"{self.root}/plan/domain_walls.csv"

    def wall_records(self) -> list[dict]:
        """One record per wall result: path, domain_wall, composition, lattice, direction, lead,
        lattice_constant_angstrom, wall, lambda_nm, config, slab_layers, length_nm, soc and the
        bulk-reference results of the same configuration (``bulk_half_path``, ``bulk_path``;
        empty without ``bulk_reference``)."""
        out = []
        for dw in self.domain_walls:
            for wall in dw.walls:
                for lam in dw.lambda_nm:
                    for c in range(dw.configurations):
                        out.append({
                            "path": self.wall_path(dw.label, wall, lam, c), "domain_wall": dw.label,
                            "composition": composition_label(dict(dw.composition)), "lattice": dw.lattice,
                            "direction": dw.direction, "lead": dw.lead,
                            "lattice_constant_angstrom": dw.lattice_constant, "wall": wall, "lambda_nm": lam,
                            "config": c, "slab_layers": dw.layers, "length_nm": dw.length_nm, "soc": dw.soc,
                            "bulk_half_path": self.wall_bulk_path(dw.label, "half", c) if dw.bulk_reference else "",
                            "bulk_path": self.wall_bulk_path(dw.label, "full", c) if dw.bulk_reference else ""})
        return out

    def wall_files(self) -> list[str]:
        """Every wall JSON and bulk-reference JSON of the study."""
        recs = self.wall_records()
        bulk = [p for r in recs for p in (r["bulk_half_path"], r["bulk_path"]) if p]
        return list(dict.fromkeys([r["path"] for r in recs] + bulk))

    def wall_table_paths(self) -> list[str]:
        """The domain-walls tables (aggregated and per configuration), CSV and parquet."""
        if not self.domain_walls:
            return []
        return [f"{self.tables_dir}/{n}.{ext}" for n in ("domain_walls", "domain_walls_configs")
                for ext in ("csv", "parquet")]

    def wall_build_args(self, label: str, config: int) -> str:
        """``tbmto build`` arguments of the structure of one configuration (nested half/full
        lengths for the bulk reference)."""
        dw = self.domain_wall(label)
        half, full = dw.bulk_lengths
        return " ".join([
            f"--lattice {dw.lattice}", f"--direction {dw.direction}",
            f"--supercell {dw.supercell[0]},{dw.supercell[1]}", f"--layers {full}",
            f"--nested-lengths {half},{full}", f"--a {_fmt(dw.lattice_constant)}", f"--lead {dw.lead}",
            f"--composition {_composition_arg(dw.composition)}", f"--seed {self.seed}",
            f"--config {int(config)}", f"--system {dw.label}"])

    def wall_args(self, label: str) -> str:
        """``tbmto wall`` physics arguments of the study ``label`` (the rule adds kind and λ)."""
        dw = self.domain_wall(label)
        return " ".join([f"--kmesh {dw.kmesh[0]},{dw.kmesh[1]}", f"--kgrid {self.kgrid}",
                         f"--linearisation {self.linearisation}", "--soc" if dw.soc else "--no-soc",
                         f"--soc-form {self.soc_form}"])

    def wall_bulk_args(self, label: str) -> str:
        """``tbmto transport`` arguments of the bulk reference (m ∥ wire, damping, both lengths)."""
        dw = self.domain_wall(label)
        return " ".join(["--magnetization par", "--soc" if dw.soc else "--no-soc",
                         f"--kmesh {dw.kmesh[0]},{dw.kmesh[1]}", f"--kgrid {self.kgrid}",
                         f"--linearisation {self.linearisation}", f"--soc-form {self.soc_form}", "--damping",
                         f"--lengths {','.join(map(str, dw.bulk_lengths))}"])

    def interface(self, label: str) -> InterfaceSpec:
        """The interface ``label`` (KeyError naming the known ones)."""
        for itf in self.interfaces:
            if itf.label == label:
                return itf
        raise KeyError(f"unknown interface {label!r}; known: {', '.join(i.label for i in self.interfaces)}")

    def interface_structure_path(self, label: str, d: int, config: int) -> str:
        return f"{self.root}/interfaces/{label}/d{int(d)}/c{int(config)}.extxyz"

    def mixing_path(self, label: str, d: int, config: int) -> str:
        return f"{self.root}/interfaces/{label}/d{int(d)}/c{int(config)}.json"

    @property
    def interfaces_plan_table(self) -> str:
        """Path of the plan's interfaces table (:meth:`interface_records`, CSV)."""
        return f"{self.root}/plan/interfaces.csv"

    def interface_records(self) -> list[dict]:
        """One record per mixing-conductance result: path, interface, normal, ferromagnet,
        lattice, direction, lattice_constant_angstrom, d_layers, intermixed_layers, config."""
        return [{"path": self.mixing_path(i.label, d, c), "interface": i.label, "normal": i.normal,
                 "ferromagnet": i.ferromagnet, "lattice": i.lattice, "direction": i.direction,
                 "lattice_constant_angstrom": i.lattice_constant, "d_layers": int(d),
                 "intermixed_layers": i.intermixed, "config": int(c)}
                for i in self.interfaces for d in i.thickness for c in range(i.configurations)]

    def interface_files(self) -> list[str]:
        """The mixing-conductance JSON files of every interface, thickness and configuration."""
        return [r["path"] for r in self.interface_records()]

    def interface_build_args(self, label: str, d: int, config: int) -> str:
        """``tbmto build`` arguments of one N | F(d) | N structure."""
        i = self.interface(label)
        return " ".join([
            f"--lattice {i.lattice}", f"--direction {i.direction}",
            f"--supercell {i.supercell[0]},{i.supercell[1]}", f"--layers {int(d) + 2 * i.intermixed}",
            f"--a {_fmt(i.lattice_constant)}", f"--lead {i.normal}", f"--composition {i.ferromagnet}",
            f"--intermixed-layers {i.intermixed}", f"--seed {self.seed}", f"--config {int(config)}",
            f"--system {i.label}_d{int(d)}",
        ])

    def mixing_args(self, label: str) -> str:
        """``tbmto mixing`` physics arguments of the interface ``label``."""
        i = self.interface(label)
        return f"--kmesh {i.kmesh[0]},{i.kmesh[1]} --kgrid {self.kgrid} --linearisation {self.linearisation}"

    @property
    def elements(self) -> tuple[str, ...]:
        """Slab elements of the study in order of first appearance (the ``x_<El>`` columns)."""
        return tuple(dict.fromkeys(el for s in self.systems for el, _ in s.composition))

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

    @property
    def systems_table(self) -> str:
        """Path of the plan's systems table (:meth:`system_records`, CSV)."""
        return f"{self.root}/plan/systems.csv"

    @property
    def runs_table(self) -> str:
        """Path of the plan's runs table (:meth:`run_records`, CSV)."""
        return f"{self.root}/plan/runs.csv"

    def table_paths(self) -> list[str]:
        """transport/fits/summary/potentials tables (when the study has systems; and the pumping
        table with :attr:`spin_pumping`), CSV and parquet."""
        if not self.systems:
            return []
        names = ("transport", "fits", "summary", "potentials") + (("pumping",) if self.spin_pumping else ())
        return [f"{self.tables_dir}/{name}.{ext}" for name in names for ext in ("csv", "parquet")]

    def interface_table_paths(self) -> list[str]:
        """The interfaces table (when the study has interfaces), CSV and parquet."""
        return [f"{self.tables_dir}/interfaces.{ext}" for ext in ("csv", "parquet")] if self.interfaces else []

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
        return [r["path"] for r in self.run_records()]

    # ---- spin-pumping prediction of the interface damping (fit.spin_pumping)
    @property
    def spin_pumping(self) -> bool:
        """Whether the mixing conductances of the systems' longest slabs are computed (with damping)."""
        return bool(self.damping and self.fit.get("spin_pumping", True) and self.systems)

    @property
    def pumping_plan_table(self) -> str:
        """Path of the plan's spin-pumping table (:meth:`pumping_records`, CSV)."""
        return f"{self.root}/plan/pumping.csv"

    def pumping_path(self, system: str, config: int) -> str:
        return f"{self.root}/pumping/{system}/c{int(config)}.json"

    def pumping_records(self) -> list[dict]:
        """One record per mixing-conductance result of a system's longest slab: path, system,
        config, structure, L_layers (empty without :attr:`spin_pumping`)."""
        if not self.spin_pumping:
            return []
        L = self.lengths[-1]
        return [{"path": self.pumping_path(s.label, c), "system": s.label, "config": int(c),
                 "structure": self.structure_path(s.label, L, c), "L_layers": int(L)}
                for s in self.systems for c in range(self.configurations)]

    def pumping_files(self) -> list[str]:
        return [r["path"] for r in self.pumping_records()]

    def pumping_args(self) -> str:
        """``tbmto mixing`` arguments of the spin-pumping jobs (the transport k mesh and settings)."""
        return f"--kmesh {self.kmesh[0]},{self.kmesh[1]} --kgrid {self.kgrid} --linearisation {self.linearisation}"

    # ---- the plan's tables
    def system_records(self) -> list[dict]:
        """One record per system: the metadata every result table carries.

        Keys: system, scan, kind, composition (label), x, x_element, ``x_<El>`` for every
        element of the study (:attr:`elements`), delta_angstrom, delta_over_a, lattice,
        lattice_constant_angstrom, layer_spacing_angstrom, direction, lead, potential,
        lead_potential (paths).
        """
        out = []
        for s in self.systems:
            comp = dict(s.composition)
            rec = {"system": s.label, "scan": s.scan, "kind": s.kind,
                   "composition": s.composition_label, "x": s.x, "x_element": s.x_element}
            rec.update({f"x_{el}": comp.get(el, 0.0) for el in self.elements})
            rec.update({
                "delta_angstrom": s.delta_angstrom, "delta_over_a": s.delta_over_a,
                "lattice": s.lattice, "lattice_constant_angstrom": s.lattice_constant,
                "layer_spacing_angstrom": layer_spacing(self.direction, s.lattice_constant, s.lattice),
                "direction": self.direction, "lead": self.lead,
                "potential": self.potential_path(s.potential.label),
                "lead_potential": self.potential_path(s.lead_potential.label),
            })
            out.append(rec)
        return out

    def run_records(self) -> list[dict]:
        """One record per transport result file: ``path``, the system's record
        (:meth:`system_records`, without the potential paths), L_layers, config,
        magnetization, soc (bool)."""
        out = []
        for rec in self.system_records():
            meta = {k: v for k, v in rec.items() if k not in ("potential", "lead_potential")}
            for L in self.lengths:
                for c in range(self.configurations):
                    for m, soc in self.transport_runs():
                        out.append({"path": self.transport_path(rec["system"], L, c, m, soc),
                                    **meta, "L_layers": int(L), "config": int(c),
                                    "magnetization": m, "soc": bool(soc)})
        return out

    def write_tables(self, directory: str | os.PathLike = ".") -> list[Path]:
        """Write :meth:`system_records`, :meth:`run_records`, :meth:`interface_records`,
        :meth:`wall_records` and :meth:`pumping_records` as CSV (atomically) to
        :attr:`systems_table`, :attr:`runs_table`, :attr:`interfaces_plan_table`,
        :attr:`walls_plan_table` and :attr:`pumping_plan_table` under ``directory``; returns the
        paths."""
        import pandas as pd

        from tbmto.io import atomic_write

        out = []
        for records, rel in ((self.system_records(), self.systems_table), (self.run_records(), self.runs_table),
                             (self.interface_records(), self.interfaces_plan_table),
                             (self.wall_records(), self.walls_plan_table),
                             (self.pumping_records(), self.pumping_plan_table)):
            df = pd.DataFrame(records)
            path = Path(directory) / rel
            atomic_write(path, lambda tmp, df=df: df.to_csv(tmp, index=False))
            out.append(path)
        return out

    def figure_names(self) -> list[str]:
        """Figure stems produced for this study (see :mod:`tbmto.plots`).

        Always the R(L) fit figure, the Fano factor F(L) (ballistic, diffusive or localised)
        and, with damping, the T(L) fit figure; ρ(x), AMR(x), α(x)
        when an alloy scan has ≥ 2 concentrations; ρ(Δ), α(Δ) when a thermal scan has ≥ 2
        displacements. AMR needs both magnetisations, α needs damping.
        """
        if not self.systems:
            return []
        names = ["fit_resistance", "fano_length"]
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
        """Figures of the systems (:meth:`figure_names`), of the interfaces (``gmix_d``) and of
        the domain walls (``alpha_dw``, ``pbeta_dw``: seed Figs. 8 and 9)."""
        names = (self.figure_names() + (["gmix_d"] if self.interfaces else [])
                 + (["alpha_dw", "pbeta_dw"] if self.domain_walls else []))
        return [f"{self.figures_dir}/{n}.{ext}" for n in names for ext in ("png", "pdf")]

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
                f"--lattice {s.lattice}",
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
        """``tbmto transport`` physics arguments of one job (no table metadata: the tables join
        the results on :meth:`run_records`)."""
        self.system(system)
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
        return " ".join(args)

    def fit_args(self) -> str:
        """``tbmto fit`` settings (the fit rule adds the plan tables as ``{input}``)."""
        return " ".join(
            [
                f"--method {self.fit['method']}",
                f"--g-factor {_fmt(self.fit['g_factor'])}",
                f"--damping-from {self.fit['damping_from']}",
                f"--linearisation {self.linearisation}",
            ]
            + ([] if self.fit.get("min_conductance_e2h") is None
               else [f"--min-conductance {_fmt(self.fit['min_conductance_e2h'])}"])
        )


def _scan_variable(comps: list[dict[str, float]], scan: Mapping) -> str:
    """Element whose fraction the scan varies (second of ``elements``; for ``compositions`` the
    element with the largest spread of fractions, ties in order of appearance)."""
    if "elements" in scan:
        return scan["elements"][1]
    els = list(dict.fromkeys(el for c in comps for el in c))
    spread = {el: max(c.get(el, 0.0) for c in comps) - min(c.get(el, 0.0) for c in comps) for el in els}
    return max(els, key=lambda el: (spread[el], -els.index(el)))


def expand_plan(config: Mapping) -> StudyPlan:
    """Validate a study config (:func:`validate_config`, the only validation) and expand it
    into a :class:`StudyPlan`.

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

    def potential(comp: Mapping[str, float], lattice: str, a: float) -> PotentialSpec:
        label = f"{composition_label(comp)}_{lattice}_a{a:.4f}"
        spec = PotentialSpec(label, tuple((el, float(c)) for el, c in comp.items()), lattice, float(a))
        old = pots.get(spec.label)
        if old is not None and old != spec:
            raise ConfigError(
                f"invalid study config:\n  potentials {old} and {spec} share the file name "
                f"{spec.label!r}; make the lattice constants or concentrations differ by ≥ 1e-4"
            )
        pots[spec.label] = spec
        return spec

    def lattice_constant(scan: Mapping, comp: Mapping[str, float]) -> float:
        lc = scan["lattice_constant"]
        return vegard_lattice_constant(comp, scan["lattice"]) if lc == "vegard" else float(lc)

    for i, scan in enumerate(cfg["alloys"]):
        name = _scan_name("alloys", scan)
        lattice = scan["lattice"]
        raw = _scan_compositions(scan)
        x_el = _scan_variable(raw, scan)
        points = []
        for given in raw:
            comp = check_composition(given, f"alloys[{i}]")
            x = float(given.get(x_el, 0.0))
            tag = f"x{x:.4f}" if "elements" in scan else composition_label(comp)
            points.append((x, tag, comp))
        for x, tag, comp in sorted(points, key=lambda p: p[0]):
            a = lattice_constant(scan, comp)
            systems.append(
                SystemSpec(
                    label=f"{name}_{tag}", scan=name, kind="alloy",
                    composition=tuple(comp.items()), x=x, x_element=x_el, lattice=lattice,
                    lattice_constant=a, delta_angstrom=0.0,
                    potential=potential(comp, lattice, a),
                    lead_potential=potential({lead: 1.0}, lattice, a),
                )
            )
    for scan in cfg["thermal"]:
        el = scan["element"]
        name = _scan_name("thermal", scan)
        lattice = scan["lattice"]
        a = lattice_constant(scan, {el: 1.0})
        deltas = (
            [float(d) for d in scan["delta_angstrom"]]
            if "delta_angstrom" in scan
            else [float(r) * a for r in scan["delta_over_a"]]
        )
        for d in sorted(deltas):
            systems.append(
                SystemSpec(
                    label=f"{name}_d{d:.5f}", scan=name, kind="thermal",
                    composition=((el, 1.0),), x=0.0, x_element="", lattice=lattice,
                    lattice_constant=a, delta_angstrom=d,
                    potential=potential({el: 1.0}, lattice, a),
                    lead_potential=potential({lead: 1.0}, lattice, a),
                )
            )
    interfaces = []
    for itf in cfg["interfaces"]:
        lat = itf["lattice"]
        a = (element_lattice_constant(itf["normal"], lat) if itf["lattice_constant"] == "vegard"
             else float(itf["lattice_constant"]))
        interfaces.append(InterfaceSpec(
            label=_interface_name(itf), normal=itf["normal"], ferromagnet=itf["ferromagnet"], lattice=lat,
            direction=itf["direction"], lattice_constant=a,
            thickness=tuple(sorted(int(d) for d in itf["thickness_layers"])),
            intermixed=int(itf["intermixed_layers"]),
            supercell=(int(itf["supercell"][0]), int(itf["supercell"][1])),
            kmesh=(int(itf["kmesh"][0]), int(itf["kmesh"][1])), configurations=int(itf["configurations"]),
            normal_potential=potential({itf["normal"]: 1.0}, lat, a),
            ferromagnet_potential=potential({itf["ferromagnet"]: 1.0}, lat, a)))
    walls = []
    for dw in cfg["domain_walls"]:
        lat, comp = dw["lattice"], _wall_composition(dw)
        a = (vegard_lattice_constant(comp, lat) if dw["lattice_constant"] == "vegard"
             else float(dw["lattice_constant"]))
        lead_el = dw.get("lead", lead)
        layers = max(2, 2 * round(float(dw["length_nm"]) * 10.0 / layer_spacing(dw["direction"], a, lat) / 2))
        walls.append(DomainWallSpec(
            label=_wall_name(dw), composition=tuple(comp.items()), lattice=lat, direction=dw["direction"],
            lead=lead_el, lattice_constant=a, walls=tuple(dw["walls"]),
            lambda_nm=tuple(sorted(float(v) for v in dw["lambda_nm"])), layers=int(layers),
            supercell=(int(dw["supercell"][0]), int(dw["supercell"][1])),
            kmesh=(int(dw["kmesh"][0]), int(dw["kmesh"][1])), configurations=int(dw["configurations"]),
            soc=bool(dw["soc"]), bulk_reference=bool(dw["bulk_reference"]),
            potential=potential(comp, lat, a), lead_potential=potential({lead_el: 1.0}, lat, a)))
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
        config=cfg,
        interfaces=tuple(interfaces),
        domain_walls=tuple(walls),
    )
