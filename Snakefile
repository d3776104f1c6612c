# IMP reproduction pipeline: download -> prepare -> vocab -> tokenize -> train -> select ->
# evaluate -> report. Every rule calls one `imprepro` command; dvc.yaml calls the same ones.
#   snakemake --cores all results/report.md
configfile: "params.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/model.smk"
include: "rules/report.smk"


rule all:
    input:
        "results/report.md",
