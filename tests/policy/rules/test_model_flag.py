"""model-flag: the rule function on its own."""

import pytest
from shimmy_policy.rules.model_flag import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment
from tests.policy.evaluate import rule_findings

SERVE = ["serve", "--bind", "0.0.0.0:8081", "--gpu-backend", "cuda"]


def messages(*flags):
    return [f.message for f in rule_findings(RULE, resource(deployment(args=[*SERVE, *flags])))]


def test_model_path_given_twice():
    (message,) = messages(*["--model-path", "/m/a.gguf"] * 2)
    assert "--model-path is given 2 times" in message


@pytest.mark.parametrize("path", ["/models", "/models/llama/", "/models/a.bin"])
def test_model_path_not_a_gguf_file(path):
    (message,) = messages("--model-path", path)
    assert "does not name a .gguf file" in message and "--model-dirs" in message.split("Fix: ")[1]


@pytest.mark.parametrize(
    ("dirs", "bad"), [("/opt", "/opt"), ("/data/gguf;/usr", "/usr"), ("/srv/tmp", "/srv/tmp")]
)
def test_model_dirs_in_a_folder_discovery_skips(dirs, bad):
    (message,) = messages("--model-dirs", dirs)
    assert f"--model-dirs entry {bad!r}" in message


def test_a_gguf_file_and_a_searched_folder_pass():
    assert messages("--model-path", "/models/Llama-3.GGUF") == []
    assert messages("--model-dirs", "/data/models;/models") == []
