# Transport: one MPI job per structure x magnetisation x SOC (physics only: the tables take every
# metadata column from the plan's runs table, tbmto/workflow/rules/plan.smk), k-points distributed over ranks
# (tbmto.parallel.kmap inside tbmto.transport.compute; only rank 0 writes). The launcher and
# rank count come from the config (mpi.launcher, mpi.ranks) and can be overridden per profile:
#   --set-resources transport:mpi="srun" transport:tasks=32
# threads = ranks so that the local scheduler reserves one core per rank.
# Lead modes go through a content-addressed cache shared by all jobs of the study
# (<ROOT>/cache/leads/<sha256>.npz, written atomically): not an output, a pure speed-up that
# never goes stale (the key is a digest of the lead blocks, energy and solver code).
# transport.lead_cache: false switches it off (disk: about 32 n² bytes per k-point).
# Options that change no number (the lead cache, transport.memory_limit_gb) travel as the string
# resource `opts`, not in params or the shell text, so switching them reruns nothing.
#
# geometry.nested (default): one job per (system, configuration, magnetisation, SOC) sweeps the
# longest slab once and writes one file per length (tbmto transport --lengths ... --out
# .../L{L}/...): every result is computed before the first file is written, each file is written
# atomically, and snakemake removes the outputs of an interrupted job, so no partial set of
# lengths survives. Changing the lengths reruns these jobs (one sweep covers all lengths).

if PLAN.nested:

    rule transport:
        input:
            structure=f"{ROOT}/structures/{{system}}/c{{conf}}.extxyz",
            potentials=lambda w: [
                PLAN.potential_path(PLAN.system(w.system).potential.label),
                PLAN.potential_path(PLAN.system(w.system).lead_potential.label),
            ],
        output:
            [f"{ROOT}/transport/{{system}}/L{L}/c{{conf}}_{{m}}_{{soc}}.json" for L in PLAN.lengths],
        params:
            args=lambda w: PLAN.transport_args(w.system, w.m, w.soc),
            out=lambda w: f"{ROOT}/transport/{w.system}/L{{L}}/c{w.conf}_{w.m}_{w.soc}.json",
        log:
            f"{LOGS}/transport/{{system}}/c{{conf}}_{{m}}_{{soc}}.log",
        threads: PLAN.ranks
        resources:
            tasks=PLAN.ranks,
            mpi=PLAN.launcher,
            opts=PLAN.speed_options,
        shell:
            "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
            "{resources.mpi} -n {resources.tasks} tbmto transport --structure {input.structure} "
            "--potentials {input.potentials} {params.args} "
            "{resources.opts} --out '{params.out}' > {log} 2>&1"

else:

    rule transport:
        input:
            structure=f"{ROOT}/structures/{{system}}/L{{L}}/c{{conf}}.extxyz",
            potentials=lambda w: [
                PLAN.potential_path(PLAN.system(w.system).potential.label),
                PLAN.potential_path(PLAN.system(w.system).lead_potential.label),
            ],
        output:
            f"{ROOT}/transport/{{system}}/L{{L}}/c{{conf}}_{{m}}_{{soc}}.json",
        params:
            args=lambda w: PLAN.transport_args(w.system, w.m, w.soc),
        log:
            f"{LOGS}/transport/{{system}}/L{{L}}/c{{conf}}_{{m}}_{{soc}}.log",
        threads: PLAN.ranks
        resources:
            tasks=PLAN.ranks,
            mpi=PLAN.launcher,
            opts=PLAN.speed_options,
        shell:
            "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
            "{resources.mpi} -n {resources.tasks} tbmto transport --structure {input.structure} "
            "--potentials {input.potentials} {params.args} "
            "{resources.opts} --out {output} > {log} 2>&1"
