# The report: reads only the small JSON files the other stages wrote.


rule report:
    input:
        "data/raw",
        "data/tfds",
        "data/vocab",
        "data/cache",
        "results/train/manifest.json",
        "results/train/metrics.jsonl",
        "results/selection.json",
        expand("results/eval/{benchmark}.json", benchmark=BENCHMARKS),
    output:
        "results/report.md",
        "results/metrics.json",
        directory("results/plots"),
    params:
        stage_params(config, "report"),
    shell:
        "imprepro report"
