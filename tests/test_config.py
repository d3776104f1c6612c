import copy

import pytest
import yaml

from imprepro.config import ConfigError, load_params, validate_params
from imprepro.recipe import load_recipe
from tests.conftest import REPO


@pytest.fixture
def params():
    return yaml.safe_load((REPO / "params.yaml").read_text())


def test_repository_params_are_valid():
    load_params(REPO / "params.yaml")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p: p["prepare"].pop("image_size"), "missing key 'prepare.image_size'"),
        (lambda p: p["prepare"].update(image_size="big"), "'prepare.image_size' must be int"),
        (lambda p: p["train"].update(checkpoint_every=0), "'train.checkpoint_every' must be positive"),
        (lambda p: p["evaluate"].update(colour="blue"), "unknown key(s) evaluate.colour"),
        (lambda p: p["train"]["tasks"].update(emoji_image_text=-1), "train.tasks.emoji_image_text"),
        (lambda p: p["evaluate"]["prompts"].update(image=["no placeholder"]), "evaluate.prompts.image"),
        (lambda p: p["train"].update(gin_files=["configs/nope.gin"]), "configs/nope.gin"),
        (lambda p: p["sources"]["fonts-symbola"].update(sha256="abc"), "sources.fonts-symbola.sha256"),
        (lambda p: p["evaluate"].update(benchmarks=["symbola_emojii"]), "evaluate.benchmarks: unknown 'symbola_emojii'"),
        (lambda p: p["evaluate"].update(benchmarks=[]), "evaluate.benchmarks must name at least one"),
        (lambda p: p["select"].update(metric="mean_recal_at_5"), "select.metric: unknown 'mean_recal_at_5'"),
        (lambda p: p["train"]["tasks"].update(emoji_image_txt=1.0), "train.tasks: unknown 'emoji_image_txt'"),
        (lambda p: p["train"]["tasks"].update(symbola_image_text=1.0), "train.tasks: unknown 'symbola_image_text'"),
    ],
)
def test_bad_params_name_the_key(params, mutate, message):
    bad = copy.deepcopy(params)
    mutate(bad)
    with pytest.raises(ConfigError, match=None) as err:
        validate_params(bad, "params.yaml")
    assert message in str(err.value)
    assert "params.yaml" in str(err.value)


def test_missing_params_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nothere.yaml"):
        load_params(tmp_path / "nothere.yaml")


def test_gin_recipe_loads_and_validates(tmp_path):
    recipe = load_recipe([str(REPO / "configs" / "default.gin")], [])
    assert recipe.model.num_moe_layers == 1 and recipe.train.clip_norm == 1.0
    bad = tmp_path / "bad.gin"
    bad.write_text("ModelConfig.width = 30\nModelConfig.num_heads = 4\n")
    with pytest.raises(ConfigError, match="not divisible by num_heads"):
        load_recipe([str(bad)], [])
    with pytest.raises(ConfigError, match="Nope"):
        load_recipe([str(REPO / "configs" / "default.gin")], ["Nope.width = 3"])
