# Interface studies (config `interfaces:`): N | F(d) | N structures without SOC, their
# spin-mixing conductances (tbmto mixing, MPI over k like transport), the interfaces table and
# the G_mix(d) figure. params carry only what each job depends on (build: geometry, a, d, seed,
# configuration; mixing: k mesh, k grid, linearisation).


rule interface_structure:
    output:
        f"{ROOT}/interfaces/{{iface}}/d{{d}}/c{{conf}}.extxyz",
    params:
        args=lambda w: PLAN.interface_build_args(w.iface, int(w.d), int(w.conf)),
    log:
        f"{LOGS}/interfaces/{{iface}}/d{{d}}/c{{conf}}_build.log",
    shell:
        "tbmto build {params.args} --out {output} > {log} 2>&1"


rule mixing:
    input:
        structure=f"{ROOT}/interfaces/{{iface}}/d{{d}}/c{{conf}}.extxyz",
        potentials=lambda w: [
            PLAN.potential_path(PLAN.interface(w.iface).ferromagnet_potential.label),
            PLAN.potential_path(PLAN.interface(w.iface).normal_potential.label),
        ],
    output:
        f"{ROOT}/interfaces/{{iface}}/d{{d}}/c{{conf}}.json",
    params:
        args=lambda w: PLAN.mixing_args(w.iface),
    log:
        f"{LOGS}/interfaces/{{iface}}/d{{d}}/c{{conf}}_mixing.log",
    threads: PLAN.ranks
    resources:
        tasks=PLAN.ranks,
        mpi=PLAN.launcher,
    shell:
        "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
        "{resources.mpi} -n {resources.tasks} tbmto mixing --structure {input.structure} "
        "--potentials {input.potentials} {params.args} --no-progress --out {output} > {log} 2>&1"


rule interfaces_table:
    input:
        records=PLAN.interfaces_plan_table,
        results=PLAN.interface_files(),
    output:
        PLAN.interface_table_paths(),
    params:
        out=PLAN.tables_dir,
    log:
        f"{LOGS}/interfaces_table.log",
    shell:
        "tbmto interfaces --records {input.records} --out-dir {params.out} > {log} 2>&1"


rule interfaces_figure:
    input:
        f"{ROOT}/tables/interfaces.parquet",
    output:
        png=report(
            f"{ROOT}/figures/gmix_d.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "gmix_d"},
        ),
        pdf=f"{ROOT}/figures/gmix_d.pdf",
    params:
        tables=PLAN.tables_dir,
        stem=f"{ROOT}/figures/gmix_d",
    log:
        f"{LOGS}/figures/gmix_d.log",
    shell:
        "export MPLBACKEND=Agg; tbmto plot gmix_d --tables-dir {params.tables} --out {params.stem} > {log} 2>&1"


ruleorder: interfaces_figure > figure
