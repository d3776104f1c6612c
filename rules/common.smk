# Shared helpers: validate params.yaml before anything runs, and the per-stage params.
from imprepro.config import validate_params
from imprepro.pipeline import stage_params

validate_params(config, "params.yaml")

BENCHMARKS = config["evaluate"]["benchmarks"]
GIN_FILES = config["train"]["gin_files"]
