"""tbmto workflow: config → potentials → structures → transport → fits/tables → figures.

    snakemake --cores 2                                   # embedded default (configs/default.yaml)
    snakemake --cores 2 --configfile configs/nife_alloys.yaml
    snakemake --profile workflow/profiles/slurm --configfile configs/ni_thermal.yaml
    snakemake --report report.html                        # figures + captions

Rules only call the `tbmto` command line (no physics here). Layout and keys:
docs/configuration.md.
"""

import os

from snakemake.utils import min_version

from tbmto.config import expand_plan

min_version("8.0")

# The embedded default is loaded only when no --configfile is given, so a study config is
# never merged with the default study (snakemake would otherwise merge the two mappings).
if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "configs", "default.yaml")


# One validation (tbmto.config.expand_plan: the schema with readable errors naming the key, the
# bad value and what is allowed, plus the checks a schema cannot express); the plan is the one
# authority for systems, paths and table metadata from here on.
PLAN = expand_plan(config)
config.clear()
config.update(PLAN.config)
ROOT = PLAN.root
LOGS = PLAN.logs_dir


wildcard_constraints:
    pot=r"[A-Za-z0-9_.\-]+",
    system=r"[A-Za-z0-9_.\-]+",
    L=r"\d+",
    conf=r"\d+",
    m=r"par|perp",
    soc=r"soc|nosoc",
    fig=r"[a-z_]+",


localrules:
    all,
    plan,
    fit,
    figure,


# The intermediate files are targets too: snakemake does not regenerate a deleted intermediate
# output while everything downstream is up to date, so listing them here makes a deleted
# potential, structure or transport result rerun that job and exactly its downstream jobs.
rule all:
    input:
        [PLAN.potential_path(label) for label in PLAN.potentials()],
        PLAN.structure_files(),
        PLAN.transport_files(),
        PLAN.table_paths(),
        PLAN.figure_files(),


include: "workflow/rules/plan.smk"
include: "workflow/rules/potentials.smk"
include: "workflow/rules/structures.smk"
include: "workflow/rules/transport.smk"
include: "workflow/rules/fits.smk"
include: "workflow/rules/figures.smk"
