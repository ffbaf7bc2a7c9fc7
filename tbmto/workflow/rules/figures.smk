# Figures: one job per figure kind (tbmto.plots.FIGURES), PNG + PDF, registered for
# `snakemake --report report.html`. Which kinds a study gets: StudyPlan.figure_names().


rule figure:
    input:
        [f"{ROOT}/tables/{name}.parquet" for name in ("transport", "fits", "summary")],
    output:
        png=report(
            f"{ROOT}/figures/{{fig}}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{fig}"},
        ),
        pdf=f"{ROOT}/figures/{{fig}}.pdf",
    params:
        tables=PLAN.tables_dir,
        stem=lambda w: f"{ROOT}/figures/{w.fig}",
    log:
        f"{LOGS}/figures/{{fig}}.log",
    shell:
        "export MPLBACKEND=Agg; tbmto plot {wildcards.fig} --tables-dir {params.tables} "
        "--out {params.stem} > {log} 2>&1"
