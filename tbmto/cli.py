"""The ``tbmto`` command line: ``scf``, ``build``, ``transport``, ``mixing``, ``wall``, ``plan``, ``fit``,
``interfaces``, ``walls``, ``plot``, ``run``.

Every Snakemake rule calls one of these subcommands (rules hold no physics); the same steps are
importable from :mod:`tbmto` for notebooks. Every output is written atomically
(:func:`tbmto.io.atomic_write`), so an interrupted job never leaves a half-written file.
Bad options exit with status 2 and a message naming the option; run ``tbmto <cmd> --help``.

Exit status (:mod:`tbmto.errors`): 0 success; 2 a usage error (bad option, config key or
argument value); 3 a physics or numerics failure (an energy at a lead band edge, a lost channel,
an SCF that does not converge: the message names the structure or composition, the k-point and
what to change); 4 a missing input file; ``tbmto run`` returns the status of snakemake (1 when
a job failed: the job's log under ``<results>/<study>/logs/`` holds the message).

Examples
--------
::

    tbmto scf --composition Ni=0.8,Fe=0.2 --a 3.548 --out pots/Py.json
    tbmto scf --composition Cu --a 3.548 --out pots/Cu.json
    tbmto scf --composition Fe=0.75,Co=0.25 --lattice bcc --out pots/FeCo.json   # Vegard a
    tbmto build --supercell 2,2 --layers 6 --a 3.548 --composition Ni=0.8,Fe=0.2 --config 0 --out s.extxyz
    mpiexec -n 2 tbmto transport --structure s.extxyz --potentials pots/Py.json pots/Cu.json \\
        --magnetization par --soc --kmesh 8,8 --damping --out t.json
    tbmto wall --structure s.extxyz --potentials pots/Py.json pots/Cu.json --kind bloch --lambda-nm 2 \\
        --kmesh 6,6 --out w.json
    tbmto plan configs/nife_alloys.yaml            # results/<study>/plan/{systems,runs}.csv
    tbmto fit --runs results/<study>/plan/runs.csv --systems-table results/<study>/plan/systems.csv \\
        --out-dir tables
    tbmto plot fit_resistance --tables-dir tables --out figures/fit_resistance
    tbmto run configs/nife_alloys.yaml --cores 2
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tbmto import __version__
from tbmto.config import MAGNETIZATIONS, ConfigError
from tbmto.errors import EXIT_MISSING_INPUT, EXIT_PHYSICS, EXIT_USAGE, PhysicsError

__all__ = ["main", "build_parser", "snakefile_path"]


# ----------------------------------------------------------------------------- argument types


def _bounded(kind: type, strict: bool, what: str):
    """argparse type: ``kind`` (int or float) that is finite and > 0 (``strict``) or >= 0."""

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ((v > 0 if strict else v >= 0) and v < float("inf")):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    return parse


_positive_int = _bounded(int, True, "a positive integer")
_nonneg_int = _bounded(int, False, "a non-negative integer")
_positive_float = _bounded(float, True, "a positive number")
_nonneg_float = _bounded(float, False, "a number >= 0")


def _int_pair(text: str) -> tuple[int, int]:
    parts = text.split(",")
    try:
        vals = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or N1,N2 with positive integers, got {text!r}") from None
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2 or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"expected N or N1,N2 with positive integers, got {text!r}")
    return vals[0], vals[1]


def _composition(text: str) -> dict[str, float]:
    from tbmto.composition import parse_composition

    try:
        return parse_composition(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _magnetization(text: str) -> tuple[tuple[float, float, float], str]:
    if text in MAGNETIZATIONS:
        return MAGNETIZATIONS[text], text
    try:
        vec = tuple(float(p) for p in text.split(","))
    except ValueError:
        vec = ()
    if len(vec) != 3 or not all(abs(v) < float("inf") for v in vec) or sum(v * v for v in vec) == 0.0:
        raise argparse.ArgumentTypeError(
            f"expected 'par' (m = z, along the current), 'perp' (m = x) or a non-zero vector x,y,z; got {text!r}"
        )
    norm = sum(v * v for v in vec) ** 0.5
    unit = tuple(v / norm for v in vec)
    return unit, ",".join(f"{v:g}" for v in unit)


def _csv_list(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _int_list(text: str) -> list[int]:
    try:
        vals = [int(t) for t in _csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None
    if min(vals) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return vals


# ----------------------------------------------------------------------------- helpers


def _mpi_world():
    """(comm, rank, size): COMM_WORLD when launched with more than one rank, else (None, 0, 1)."""
    try:
        from mpi4py import MPI
    except ImportError:  # mpi4py is a declared dependency; tolerate its absence for serial runs
        return None, 0, 1
    comm = MPI.COMM_WORLD
    size = comm.Get_size()
    return (comm if size > 1 else None), comm.Get_rank(), size


def snakefile_path() -> Path:
    """The workflow's Snakefile, package data ``tbmto/workflow/Snakefile`` (wheel or checkout)."""
    from tbmto.config import package_file

    return package_file("workflow", "Snakefile")


# ----------------------------------------------------------------------------- subcommands


def _cmd_scf(args) -> int:
    from tbmto import asa

    from tbmto.io import write_potentials

    kwargs = {"a": args.a, "seed": args.seed, "progress": args.progress}
    for key in ("kmesh", "smearing_Ry", "max_iter", "tol_Ry", "configurations", "alloy_model",
                "cpa_kmesh", "cpa_screening"):
        val = getattr(args, key)
        if val is not None:
            kwargs[key] = val
    try:
        data = asa.scf(args.composition, args.lattice, **kwargs)
    except RuntimeError as exc:  # tbmto.asa.scf: no convergence within --max-iter
        comp = ",".join(f"{el}={x:g}" for el, x in args.composition.items())
        a = "Vegard" if args.a is None else f"{args.a:g} Å"
        raise PhysicsError(
            f"self-consistent potentials of {comp} ({args.lattice}, a = {a}, output {args.out}): {exc}. "
            "What to change: raise --max-iter (scf.max_iter), widen --smearing-Ry (scf.smearing_Ry) "
            "or loosen --tol-Ry (scf.tol_Ry); check the lattice constant"
        ) from exc
    write_potentials(data, args.out)
    return 0


def _cmd_build(args) -> int:
    from tbmto import structure
    from tbmto.io import write_structure

    atoms = structure.build_stack(
        lattice=args.lattice,
        direction=args.direction,
        supercell=args.supercell,
        layers=args.layers,
        lattice_constant=args.a,
        lead=args.lead,
        composition=args.composition,
        delta=args.delta,
        seed=args.seed,
        config=args.config,
        lead_layers=args.lead_layers,
        system=args.system,
        nested_lengths=args.nested_lengths,
        intermixed_layers=args.intermixed_layers,
    )
    write_structure(atoms, args.out)
    return 0


def _cmd_transport(args, parser) -> int:
    from tbmto import potentials, structure, transport
    from tbmto.io import TRANSPORT_FORMAT, read_structure, to_jsonable, write_transport

    if args.lengths is not None and "{L}" not in args.out:
        parser.error(f"with --lengths, --out must contain '{{L}}' (one file per length), got {args.out!r}")
    comm, rank, size = _mpi_world()
    m_vec, m_label = args.magnetization
    atoms = structure.set_magnetization(read_structure(args.structure), m_vec)
    pots = potentials.load(*args.potentials, linearisation=args.linearisation)
    t0 = time.perf_counter()
    try:
        results = transport.compute(
            atoms, pots, kmesh=args.kmesh, soc=args.soc, damping=args.damping, comm=comm,
            progress=args.progress and rank == 0, lead_cache=args.lead_cache,
            soc_form=args.soc_form, kgrid=args.kgrid, lengths=args.lengths, memory_limit_gb=args.memory_limit_gb,
            batched=args.batched,
        )
    except PhysicsError as exc:  # add the files and the magnetisation label to the k-point context
        raise PhysicsError(f"transport of {args.structure} with {' '.join(map(str, args.potentials))}, "
                           f"magnetization {m_label}: {exc}") from exc
    wall = time.perf_counter() - t0
    if rank != 0:
        return 0
    if args.lengths is None:
        results = [results]
    info = to_jsonable(dict(atoms.info))
    outputs = []
    for result in results:
        data = {
            "format": TRANSPORT_FORMAT,
            "structure_info": info,
            "inputs": {
                "structure": os.fspath(args.structure),
                "potentials": [os.fspath(p) for p in args.potentials],
                "magnetization": list(m_vec),
                "magnetization_label": m_label,
                "soc": bool(args.soc),
                "kmesh": list(args.kmesh),
                "kgrid": args.kgrid,
                "linearisation": args.linearisation,
                "soc_form": args.soc_form,
                "damping": bool(args.damping),
                "lengths": None if args.lengths is None else list(args.lengths),
            },
            "result": result.to_dict(),
            "provenance": {
                "tbmto_version": __version__,
                "mpi_ranks": size,
                "host": platform.node(),
                "wall_seconds": wall,
            },
        }
        out = args.out.replace("{L}", str(result.slab_layers)) if args.lengths is not None else args.out
        outputs.append((data, out))
    for data, out in outputs:  # every result is complete before the first file is written
        write_transport(data, out)
    return 0


def _cmd_mixing(args) -> int:
    from tbmto import potentials, structure
    from tbmto.io import read_structure
    from tbmto.mixing import compute_mixing

    comm, rank, size = _mpi_world()
    atoms = structure.set_magnetization(read_structure(args.structure), (0.0, 0.0, 1.0))
    pots = potentials.load(*args.potentials, linearisation=args.linearisation)
    t0 = time.perf_counter()
    try:
        res = compute_mixing(atoms, pots, kmesh=args.kmesh, kgrid=args.kgrid, comm=comm,
                             progress=args.progress and rank == 0)
    except PhysicsError as exc:
        raise PhysicsError(f"mixing conductance of {args.structure}: {exc}") from exc
    if rank != 0:
        return 0
    _write_result("tbmto-mixing/1", atoms, args, {}, {"result": {**res.to_dict(), **res.per_area()}}, size, t0)
    return 0


def _write_result(fmt: str, atoms, args, inputs: dict, body: dict, size: int, t0: float) -> None:
    """Write a one-structure result JSON (``mixing``, ``wall``) atomically to ``args.out``: format,
    structure_info, inputs (structure, potentials, kmesh, kgrid, linearisation + ``inputs``),
    ``body`` and provenance."""
    from tbmto.io import to_jsonable, write_json

    write_json({"format": fmt, "structure_info": to_jsonable(dict(atoms.info)),
                "inputs": {"structure": os.fspath(args.structure),
                           "potentials": [os.fspath(p) for p in args.potentials], "kmesh": list(args.kmesh),
                           "kgrid": args.kgrid, "linearisation": args.linearisation, **inputs},
                **body,
                "provenance": {"tbmto_version": __version__, "mpi_ranks": size,
                               "wall_seconds": time.perf_counter() - t0}}, args.out)


def _cmd_wall(args) -> int:
    from tbmto import potentials
    from tbmto.io import read_structure
    from tbmto.walls import compute_wall

    comm, rank, size = _mpi_world()
    atoms = read_structure(args.structure)
    pots = potentials.load(*args.potentials, linearisation=args.linearisation)
    t0 = time.perf_counter()
    center = None if args.center_nm is None else 10.0 * args.center_nm
    try:
        res = compute_wall(atoms, pots, args.kind, 10.0 * args.lambda_nm, center=center, kmesh=args.kmesh,
                           kgrid=args.kgrid, soc=args.soc, soc_form=args.soc_form, comm=comm,
                           progress=args.progress and rank == 0)
    except PhysicsError as exc:
        raise PhysicsError(f"{args.kind} wall (λ_w = {args.lambda_nm:g} nm) in {args.structure}: {exc}") from exc
    if rank != 0:
        return 0
    _write_result("tbmto-wall/1", atoms, args,
                  {"kind": args.kind, "lambda_nm": args.lambda_nm, "center_nm": args.center_nm,
                   "soc": bool(args.soc), "soc_form": args.soc_form},
                  {"result": res.to_dict(), "summary": res.row()}, size, t0)
    return 0


def _cmd_walls(args) -> int:
    from tbmto.io import read_table, write_table
    from tbmto.tables import domain_walls_tables

    means, per = domain_walls_tables(read_table(args.records), args.g_factor)
    write_table(means, Path(args.out_dir) / "domain_walls")
    write_table(per, Path(args.out_dir) / "domain_walls_configs")
    print(means[["domain_wall", "wall", "lambda_nm", "alpha_dw", "alpha_dw_err", "p_beta", "p_beta_err",
                 "alpha_bulk"]].to_string(index=False))
    return 0


def _cmd_plan(args) -> int:
    from tbmto.config import expand_plan, load_config

    plan = expand_plan(load_config(args.config))
    for path in plan.write_tables(args.directory or "."):
        print(path)
    return 0


def _cmd_fit(args) -> int:
    from tbmto.io import read_table, write_table
    from tbmto.tables import fit_and_summary_tables, potentials_table, pumping_table, transport_table

    transport = transport_table(read_table(args.runs))
    pumping = None if args.pumping is None else pumping_table(read_table(args.pumping))
    fits, summary = fit_and_summary_tables(transport, args.method, args.g_factor, args.damping_from,
                                           pumping=pumping, min_conductance=args.min_conductance)
    out = Path(args.out_dir)
    write_table(transport, out / "transport")
    write_table(fits, out / "fits")
    write_table(summary, out / "summary")
    if pumping is not None:
        write_table(pumping, out / "pumping")
    if args.systems_table is not None:
        write_table(potentials_table(read_table(args.systems_table), args.linearisation), out / "potentials")
    cols = [c for c in ("system", "soc", "rho_par_uohm_cm", "rho_perp_uohm_cm", "rho_avg_uohm_cm", "amr", "alpha")
            if c in summary]
    print(summary[cols].to_string(index=False))
    return 0


def _cmd_plot(args) -> int:
    from tbmto.io import read_table
    from tbmto.plots import INTERFACE_FIGURES, WALL_FIGURES, make_figure, save_figure

    if args.kind in INTERFACE_FIGURES:
        save_figure(INTERFACE_FIGURES[args.kind](read_table(args.tables_dir, "interfaces")), args.out)
        return 0
    if args.kind in WALL_FIGURES:
        save_figure(WALL_FIGURES[args.kind](read_table(args.tables_dir, "domain_walls")), args.out)
        return 0
    tables = [read_table(args.tables_dir, name) for name in ("transport", "fits", "summary")]
    save_figure(make_figure(args.kind, *tables), args.out)
    return 0


def _cmd_interfaces(args) -> int:
    from tbmto.io import read_table, write_table
    from tbmto.tables import interfaces_table

    table = interfaces_table(read_table(args.records))
    write_table(table, Path(args.out_dir) / "interfaces")
    print(table[["interface", "d_layers", "config", "re_gmix_1e15", "im_gmix_1e15", "re_gmix_t_1e15"]]
          .to_string(index=False))
    return 0


def _cmd_run(args, extra: list[str]) -> int:
    from tbmto.config import default_config_path, load_config

    cfg = Path(args.config) if args.config else default_config_path()
    load_config(cfg)  # readable errors before snakemake starts
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile_path()),
           "--configfile", str(cfg.resolve()), "--cores", str(args.cores)]
    if args.directory:
        cmd += ["--directory", args.directory]
    if args.profile:
        cmd += ["--profile", args.profile]
    if args.dry_run:
        cmd.append("--dry-run")
    cmd += extra
    print("+ " + " ".join(cmd), file=sys.stderr)
    return subprocess.call(cmd)


# ----------------------------------------------------------------------------- parser


def _add_structure_inputs(p: argparse.ArgumentParser) -> None:
    """``--structure`` and ``--potentials`` of the commands that compute on one structure."""
    p.add_argument("--structure", required=True, help="structure .extxyz from `tbmto build`")
    p.add_argument("--potentials", required=True, nargs="+", help="potential JSON files (slab and lead)")


def _add_onsite_options(p: argparse.ArgumentParser, kgrids, linearisations) -> None:
    """``--kgrid`` and ``--linearisation`` (k∥ mesh type, energy of the potential parameters)."""
    p.add_argument("--kgrid", default="shifted", choices=list(kgrids),
                   help="k-parallel mesh: shifted by half a step (default) or Gamma-centred")
    p.add_argument("--linearisation", default="fermi", choices=list(linearisations),
                   help="potential parameters rebuilt at E_F from the stored V(r) (default) or the "
                   "band-centre parameters stored in the files")


def _add_soc_options(p: argparse.ArgumentParser, soc_forms, default_form: str) -> None:
    """``--soc/--no-soc`` and ``--soc-form`` of the commands that solve with spin–orbit coupling."""
    p.add_argument("--soc", action=argparse.BooleanOptionalAction, default=True, help="spin-orbit coupling (default on)")
    p.add_argument("--soc-form", dest="soc_form", default=default_form, choices=list(soc_forms),
                   help=f"form of the on-site spin-orbit term (default {default_form})")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``tbmto`` with all subcommands."""
    from tbmto.asa.scf import ALLOY_MODELS
    from tbmto.onsite import SOC_FORMS
    from tbmto.potentials import LINEARISATIONS
    from tbmto.layers import KGRIDS
    from tbmto.structure import WALL_KINDS
    from tbmto.transport import DEFAULT_SOC_FORM

    p = argparse.ArgumentParser(
        prog="tbmto",
        description="First-principles spin transport (TB-MTO wave-function matching): potentials, "
        "structures, transport, fits, figures, and the Snakemake workflow.",
    )
    p.add_argument("--version", action="version", version=f"tbmto {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("scf", help="self-consistent LSDA-ASA potentials → JSON",
                       description="Self-consistent LSDA atomic-sphere potentials (tbmto.asa.scf) written to a "
                       "tbmto-potentials/2 JSON file (parameters and the spherical potentials V(r)).")
    s.add_argument("--composition", type=_composition, required=True,
                   help="an element (Cu, Fe, W, ...) or an alloy ELEMENT=FRACTION,... (e.g. Fe=0.75,Co=0.25)")
    s.add_argument("--lattice", default="fcc", choices=["fcc", "bcc"], help="crystal lattice (default fcc)")
    s.add_argument("--a", type=_positive_float, default=None, help="lattice constant in Å (default: Vegard's law "
                   "over the element table tbmto.materials.ELEMENT_DATA)")
    s.add_argument("--alloy-model", dest="alloy_model", default=None, choices=list(ALLOY_MODELS),
                   help="alloy potential model (default cpa)")
    s.add_argument("--cpa-kmesh", dest="cpa_kmesh", type=_positive_int, default=None,
                   help="CPA: k density of the Brillouin-zone sums (default 16)")
    s.add_argument("--cpa-screening", dest="cpa_screening", type=_nonneg_float, default=None,
                   help="CPA: screened-impurity constant alpha_scr (default: none, single-site)")
    s.add_argument("--kmesh", type=_positive_int, default=None, help="bulk k mesh n (n x n x n)")
    s.add_argument("--smearing-Ry", dest="smearing_Ry", type=_positive_float, default=None, help="Fermi smearing in Ry")
    s.add_argument("--max-iter", dest="max_iter", type=_positive_int, default=None, help="maximum SCF iterations")
    s.add_argument("--tol-Ry", dest="tol_Ry", type=_positive_float, default=None, help="convergence tolerance in Ry")
    s.add_argument("--configurations", type=_positive_int, default=None,
                   help="alloys: random supercell occupations averaged with one Fermi level")
    s.add_argument("--seed", type=_nonneg_int, default=0, help="random seed of the alloy occupation (default 0)")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="show progress")
    s.add_argument("--out", required=True, help="output potentials JSON")

    b = sub.add_parser("build", help="lead | slab | lead structure → extxyz",
                       description="Build a lead | slab(L) | lead fcc or bcc stack with seeded alloy/thermal "
                       "disorder (tbmto.structure.build_stack) and write it as extended XYZ.")
    b.add_argument("--lattice", default="fcc", choices=["fcc", "bcc"], help="cubic lattice (default fcc)")
    b.add_argument("--direction", default="001", choices=["001", "111", "110"],
                   help="transport direction: fcc 001 or 111, bcc 001 or 110 (default 001)")
    b.add_argument("--supercell", type=_int_pair, default=(1, 1), help="lateral supercell m,n (default 1,1)")
    b.add_argument("--layers", type=_positive_int, required=True, help="slab length L in atomic layers")
    b.add_argument("--a", type=_positive_float, required=True, help="lattice constant in Å (slab and leads)")
    b.add_argument("--lead", default="Cu", help="lead element (default Cu)")
    b.add_argument("--composition", type=_composition, default={"Ni": 0.8, "Fe": 0.2},
                   help="slab composition, e.g. Ni=0.8,Fe=0.2 (default), Fe=0.7,Co=0.28,V=0.02 or Ni")
    b.add_argument("--delta", type=_nonneg_float, default=0.0, help="RMS displacement Δ in Å (default 0)")
    b.add_argument("--seed", type=_nonneg_int, default=0, help="study seed (default 0)")
    b.add_argument("--config", type=_nonneg_int, default=0, help="disorder configuration index (default 0)")
    b.add_argument("--lead-layers", dest="lead_layers", type=_nonneg_int, default=4,
                   help="ideal lead layers kept on each side (default 4)")
    b.add_argument("--system", default=None, help="system label entering the random seed")
    b.add_argument("--nested-lengths", dest="nested_lengths", type=_int_list, default=None, metavar="L1,L2,...",
                   help="nested lengths ending with --layers: one configuration whose prefixes are the shorter "
                   "slabs, each increment with the exact concentration (default: not nested)")
    b.add_argument("--intermixed-layers", dest="intermixed_layers", type=_nonneg_int, default=0,
                   help="50/50 lead-slab alloyed layers at each interface (first and last slab layers; default 0)")
    b.add_argument("--out", required=True, help="output .extxyz")

    t = sub.add_parser("transport", help="conductance and damping of one structure → JSON (MPI over k)",
                       description="Scattering-matrix transport of one structure (tbmto.transport.compute). Run "
                       "under `mpiexec -n N` to distribute the k-points; only rank 0 writes.")
    _add_structure_inputs(t)
    t.add_argument("--magnetization", type=_magnetization, default=_magnetization("par"),
                   help="par (m = z, along the current), perp (m = x) or a vector x,y,z (default par)")
    _add_soc_options(t, SOC_FORMS, DEFAULT_SOC_FORM)
    t.add_argument("--kmesh", type=_int_pair, default=(8, 8), help="k-parallel mesh n or n1,n2 (default 8,8)")
    _add_onsite_options(t, KGRIDS, LINEARISATIONS)
    t.add_argument("--damping", action="store_true",
                   help="also compute the damping tensor T_ab = <Re Tr dS†/dθ_a dS/dθ_b> (two axes ⊥ m)")
    t.add_argument("--lead-cache", dest="lead_cache", default=None, metavar="DIR",
                   help="directory of the content-addressed lead-mode cache (<sha256>.npz per lead and "
                   "k-point, shared safely by concurrent jobs): identical leads of other jobs "
                   "(lengths, configurations, magnetisations) are read instead of recomputed; "
                   "results are bitwise the same (default: no cache)")
    t.add_argument("--lengths", type=_int_list, default=None, metavar="L1,L2,...",
                   help="nested slab lengths (prefixes of the structure's slab) computed in one sweep; --out "
                   "then names one file per length with '{L}' (default: the whole slab)")
    t.add_argument("--memory-limit-gb", dest="memory_limit_gb", type=_positive_float, default=None,
                   help="damping: most GiB of stored per-layer factors, beyond which they are recomputed "
                   "(default: keep all)")
    t.add_argument("--batched", action=argparse.BooleanOptionalAction, default=None,
                   help="solve chunks of k-points at once (G only; default: automatic for 1x1 cells without "
                   "damping or --lengths)")
    t.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bar over k")
    t.add_argument("--out", required=True, help="output JSON (with --lengths: a pattern containing {L})")

    x = sub.add_parser("mixing", help="spin-mixing conductances of an N | F | N structure → JSON",
                       description="Reflection and transmission mixing conductances g↑↓ of both interfaces of a "
                       "lead | F | lead structure without SOC, the moments along z (tbmto.mixing.compute_mixing): "
                       "e²/h per lateral cell and 10¹⁵ Ω⁻¹ m⁻² (seed Eq. 79). MPI over k like transport.")
    _add_structure_inputs(x)
    x.add_argument("--kmesh", type=_int_pair, default=(16, 16), help="k-parallel mesh n or n1,n2 (default 16,16)")
    _add_onsite_options(x, KGRIDS, LINEARISATIONS)
    x.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bar over k")
    x.add_argument("--out", required=True, help="output JSON")

    w = sub.add_parser("wall", help="domain-wall damping and Pβ of one structure → JSON",
                       description="A head-to-head Walker domain wall in the slab of a lead | F | lead structure: "
                       "G, Tr ∂S†/∂r_w ∂S/∂r_w, the electrons pumped per wall displacement, α_DW and Pβ "
                       "(tbmto.walls.compute_wall; seed Eqs. 71–78). MPI over k like transport.")
    _add_structure_inputs(w)
    w.add_argument("--kind", required=True, choices=list(WALL_KINDS),
                   help="neel m = (f, 0, g), rotated_neel (g, 0, f) or bloch (g, f, 0)")
    w.add_argument("--lambda-nm", dest="lambda_nm", type=_positive_float, required=True,
                   help="wall width parameter λ_w in nm")
    w.add_argument("--center-nm", dest="center_nm", type=float, default=None,
                   help="wall centre r_w in nm (absolute z of the structure; default the middle of the slab)")
    _add_soc_options(w, SOC_FORMS, DEFAULT_SOC_FORM)
    w.add_argument("--kmesh", type=_int_pair, default=(8, 8), help="k-parallel mesh n or n1,n2 (default 8,8)")
    _add_onsite_options(w, KGRIDS, LINEARISATIONS)
    w.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bar over k")
    w.add_argument("--out", required=True, help="output JSON")

    q = sub.add_parser("plan", help="a study config → its plan tables (systems.csv, runs.csv)",
                       description="Validate a study config and write its plan tables "
                       "<results_dir>/<study>/plan/systems.csv and runs.csv (the metadata every result "
                       "table joins on; the Snakefile writes the same tables).")
    q.add_argument("config", help="study YAML")
    q.add_argument("--directory", "-d", default=None, help="working directory the plan paths are relative to")

    f = sub.add_parser("fit", help="plan runs table + transport JSONs → transport/fits/summary tables",
                       description="Join the transport results listed in a plan's runs table (tbmto plan) with "
                       "their metadata and fit R·A(L), T(L), M(L): ρ∥, ρ⊥, ρ̄, AMR and α with errors from the "
                       "configuration spread; with --systems-table also the potentials table.")
    f.add_argument("--runs", required=True, help="the plan's runs table (plan/runs.csv): path + metadata per result")
    f.add_argument("--systems-table", dest="systems_table", default=None,
                   help="the plan's systems table (plan/systems.csv): also write the potentials table")
    f.add_argument("--linearisation", default="fermi", choices=list(LINEARISATIONS),
                   help="energy of the xi_p, xi_d columns of the potentials table (default fermi)")
    f.add_argument("--method", default="spread", choices=["spread", "weighted", "residual"],
                   help="slope error model (default spread; see tbmto.fit)")
    f.add_argument("--g-factor", dest="g_factor", type=_positive_float, default=2.0, help="g factor (default 2)")
    f.add_argument("--damping-from", dest="damping_from", default="par", choices=["par", "perp", "average"],
                   help="magnetisation runs used for alpha (default par)")
    f.add_argument("--min-conductance", dest="min_conductance", type=_positive_float, default=None,
                   metavar="G_E2H", help="fit each system over the lengths whose configuration-mean G per lateral "
                   "cell and k-point is at least G_E2H e^2/h (default: every length)")
    f.add_argument("--pumping", default=None, metavar="PLAN_PUMPING_CSV",
                   help="the plan's pumping table (plan/pumping.csv): mixing results of the longest slabs → the "
                   "pumping table and the spin-pumping prediction of the interface damping in the summary")
    f.add_argument("--out-dir", required=True, help="directory for transport/fits/summary(/potentials) .csv and .parquet")

    from tbmto.plots import FIGURES, INTERFACE_FIGURES, WALL_FIGURES

    n = sub.add_parser("interfaces", help="plan interfaces table + mixing JSONs → the interfaces table",
                       description="Join the mixing results listed in a plan's interfaces table (tbmto plan) with "
                       "their metadata: tables/interfaces.csv and .parquet.")
    n.add_argument("--records", required=True, help="the plan's interfaces table (plan/interfaces.csv)")
    n.add_argument("--out-dir", required=True, help="directory for interfaces.csv and .parquet")

    v = sub.add_parser("walls", help="plan domain-walls table + wall JSONs → the domain-walls tables",
                       description="Join the wall results listed in a plan's domain-walls table (tbmto plan) with "
                       "their metadata and the bulk reference: tables/domain_walls (configuration means with "
                       "errors) and domain_walls_configs, .csv and .parquet.")
    v.add_argument("--records", required=True, help="the plan's domain-walls table (plan/domain_walls.csv)")
    v.add_argument("--g-factor", dest="g_factor", type=_positive_float, default=2.0, help="g factor (default 2)")
    v.add_argument("--out-dir", required=True, help="directory for the domain-walls tables")

    g = sub.add_parser("plot", help="one figure from the tables → PNG + PDF",
                       description="Draw one figure kind from the study tables.")
    g.add_argument("kind", choices=list(FIGURES) + list(INTERFACE_FIGURES) + list(WALL_FIGURES),
                   help="figure kind")
    g.add_argument("--tables-dir", required=True, help="directory with transport/fits/summary tables")
    g.add_argument("--out", required=True, help="output stem (writes STEM.png and STEM.pdf)")

    r = sub.add_parser("run", help="run the Snakemake workflow on a config",
                       description="Run the tbmto workflow (package data tbmto/workflow/Snakefile) on a study "
                       "config. Unrecognised options are passed to snakemake (e.g. --rerun-incomplete, "
                       "--report report.html).")
    r.add_argument("config", nargs="?", default=None,
                   help="study YAML (default: the embedded default study, configs/default.yaml)")
    r.add_argument("--cores", type=_positive_int, default=2, help="cores for snakemake (default 2)")
    r.add_argument("--directory", "-d", default=None, help="snakemake working directory (default: current)")
    r.add_argument("--profile", default=None, help="snakemake profile, e.g. workflow/profiles/slurm")
    r.add_argument("--dry-run", "-n", dest="dry_run", action="store_true", help="only show the jobs")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tbmto`` command; returns the exit status.

    Returns
    -------
    int
        0 on success; :data:`tbmto.errors.EXIT_USAGE` (2) for a usage or config error (argparse
        exits with 2 by itself), :data:`~tbmto.errors.EXIT_PHYSICS` (3) for a
        :class:`~tbmto.errors.PhysicsError`, :data:`~tbmto.errors.EXIT_MISSING_INPUT` (4) for a
        missing input file; ``run``: the status of snakemake.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser.parse_known_args(argv)
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sp = subparsers.choices[args.command]
    if extra and args.command != "run":
        sp.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "scf":
            return _cmd_scf(args)
        if args.command == "build":
            return _cmd_build(args)
        if args.command == "transport":
            return _cmd_transport(args, sp)
        if args.command == "interfaces":
            return _cmd_interfaces(args)
        if args.command == "mixing":
            return _cmd_mixing(args)
        if args.command == "wall":
            return _cmd_wall(args)
        if args.command == "walls":
            return _cmd_walls(args)
        if args.command == "plan":
            return _cmd_plan(args)
        if args.command == "fit":
            return _cmd_fit(args)
        if args.command == "plot":
            return _cmd_plot(args)
        return _cmd_run(args, extra)
    except PhysicsError as exc:  # before ValueError: a LeadModeError is both
        print(f"tbmto {args.command}: physics error: {exc}", file=sys.stderr)
        return EXIT_PHYSICS
    except FileNotFoundError as exc:
        print(f"tbmto {args.command}: missing input: {exc}", file=sys.stderr)
        return EXIT_MISSING_INPUT
    except (ConfigError, ValueError) as exc:
        print(f"tbmto {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
