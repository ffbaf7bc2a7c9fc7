"""Entry point of the repository checkout: `snakemake --cores 2` here runs the tbmto workflow.

The workflow itself is package data, tbmto/workflow/Snakefile with its rules (one source, also
shipped in the wheel and run by `tbmto run`); this file only includes it. Usage and keys:
tbmto/workflow/Snakefile, docs/configuration.md.
"""


include: "tbmto/workflow/Snakefile"


# An included file's first rule is not the default target (snakemake keeps the including
# file's), so this file names one: everything of the workflow's rule all.
rule default:
    default_target: True
    localrule: True
    input:
        rules.all.input,
