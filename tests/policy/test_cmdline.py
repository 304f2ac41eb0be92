"""shimmy's command line as a container runs it: the arguments shimmy receives, and where they live."""

import pytest
from shimmy_policy.cmdline import invocation, without_flag


@pytest.mark.parametrize(
    ("command", "args", "tokens", "editable"),
    [
        ([], ["serve", "--bind", "0.0.0.0:1"], ("serve", "--bind", "0.0.0.0:1"), "args"),
        ([], ["shimmy", "serve"], ("serve",), "args"),
        (["shimmy", "serve"], [], ("serve",), "command"),
        (["tini", "--", "/bin/shimmy"], ["serve"], ("serve",), "args"),
        (["sh", "-c", "cd /m && exec shimmy serve --bind x; echo done"], [], ("serve", "--bind", "x"), None),
        (["/entrypoint.sh"], ["serve"], ("serve",), "args"),
        ([], [], (), None),
    ],
)
def test_the_arguments_shimmy_receives(command, args, tokens, editable):
    run = invocation(command, args, {}, {"shimmy"})
    assert (run.tokens, run.editable) == (tokens, editable)


def test_flags_in_both_forms_and_the_subcommand_after_global_flags():
    run = invocation(
        [], ["--gpu-backend", "cuda", "--model-dirs", "/a;/b", "serve", "--bind=[::]:1"], {}, {"shimmy"}
    )
    assert run.subcommand == "serve"
    assert run.values("--gpu-backend") == ["cuda"] and run.values("--bind") == ["[::]:1"]


def test_kubernetes_and_shell_variables_expand_from_literal_env():
    run = invocation([], ["serve", "--bind", "0.0.0.0:$(PORT)"], {"PORT": "8080"}, {"shimmy"})
    assert run.values("--bind") == ["0.0.0.0:8080"]
    script = invocation(
        ["sh", "-c", "exec shimmy serve --bind 0.0.0.0:${PORT}"], [], {"PORT": "9"}, {"shimmy"}
    )
    assert script.values("--bind") == ["0.0.0.0:9"]


def test_without_flag_drops_both_forms():
    assert without_flag(
        ["serve", "--gpu-backend", "auto", "--gpu-backend=cpu", "--bind", "x"], "--gpu-backend"
    ) == [
        "serve",
        "--bind",
        "x",
    ]
