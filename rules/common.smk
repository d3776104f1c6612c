# Shared helpers: validate params.yaml before anything runs, and the per-stage params.
import glob

from imprepro.config import validate_params
from imprepro.pipeline import stage_params

validate_params(config, "params.yaml")

BENCHMARKS = config["evaluate"]["benchmarks"]
# Every recipe file, not only train.gin_files: gin files include one another, and DVC cannot
# expand a list from params.yaml, so both engines watch the whole configs/ folder.
GIN_FILES = sorted(set(glob.glob("configs/*.gin")) | set(config["train"]["gin_files"]))
