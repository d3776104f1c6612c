# Data stages: real source files -> TFDS datasets -> vocabulary -> materialised seqio tasks.


rule download:
    output:
        directory("data/raw"),
    params:
        stage_params(config, "download"),
    shell:
        "imprepro download"


rule prepare:
    input:
        "data/raw",
    output:
        directory("data/tfds"),
    params:
        stage_params(config, "prepare"),
    shell:
        "imprepro prepare"


rule vocab:
    input:
        "data/tfds",
    output:
        directory("data/vocab"),
    params:
        stage_params(config, "vocab"),
    shell:
        "imprepro vocab"


rule tokenize:
    input:
        "data/tfds",
        "data/vocab",
    output:
        directory("data/cache"),
    params:
        stage_params(config, "tokenize"),
    shell:
        "imprepro tokenize"
