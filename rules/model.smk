# Model stages: AGD pretraining -> checkpoint selection -> zero-shot evaluation.
# train's declared outputs are a manifest and the metrics log, never the checkpoint folder:
# Snakemake deletes a job's outputs before re-running it, and checkpoints must survive to resume.


rule train:
    input:
        "data/cache",
        "data/vocab",
        GIN_FILES,
    output:
        "results/train/manifest.json",
        "results/train/metrics.jsonl",
    params:
        stage_params(config, "train"),
    threads: workflow.cores
    shell:
        "imprepro train"


rule select:
    input:
        "data/cache",
        "data/vocab",
        "results/train/manifest.json",
    output:
        "results/selection.json",
    params:
        stage_params(config, "select"),
    threads: workflow.cores
    shell:
        "imprepro select"


rule evaluate:
    input:
        "data/cache",
        "data/vocab",
        "results/train/manifest.json",
        "results/selection.json",
    output:
        "results/eval/{benchmark}.json",
    params:
        stage_params(config, "evaluate"),
    shell:
        "imprepro evaluate {wildcards.benchmark}"
