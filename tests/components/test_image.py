"""ShimmyImage: what it asks pulumi-docker to build and push, per stack."""

from pathlib import Path

from components.image import write_dockerfile
from shimmy_gpu.config import parse_settings
from shimmy_gpu.dockerfile import render_dockerfile
from tests.program import ROOT, Program, run_program, stack_config

IMAGE = "docker:index/image:Image"
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"


def built_dockerfile(program: Program) -> str:
    return (ROOT / program.one(IMAGE).props["build"]["dockerfile"]).read_text()


def test_builds_with_buildkit_for_the_configured_platform(program):
    build = program.one(IMAGE).props["build"]
    assert build["builderVersion"] == "BuilderBuildKit"
    assert build["platform"] == "linux/amd64"
    assert build["context"] == "docker"
    assert program.one(IMAGE).props["skipPush"] is False


def test_builds_the_dockerfile_rendered_for_the_stack(program):
    settings = parse_settings(program.stack, stack_config(program.stack))
    assert built_dockerfile(program) == render_dockerfile(settings.build)


def test_cuda_stacks_build_llama_cuda_for_the_configured_architectures():
    for stack, archs in (("prod", ["75"]), ("dev", ["75", "90"])):
        program = run_program(stack, {"cudaArchitectures": archs})
        text = built_dockerfile(program)
        assert "llama-cuda" in text
        assert ";".join(archs) in text


def test_image_name_carries_registry_repository_and_derived_tag():
    name = run_program("prod").one(IMAGE).props["imageName"]
    assert name == "registry.gpu-platform.internal/ml/shimmy:1.9.0-cuda12.4.1-sm75"


def test_registry_login_only_with_a_username_and_as_a_secret():
    assert "registry" not in run_program("prod").one(IMAGE).props
    image = run_program("prod", {"registryUsername": "ci", "registryPassword": "s3cret"}).one(IMAGE)
    registry = image.props["registry"]
    # The engine receives the credentials wrapped as a secret (Pulumi's secret signature).
    assert registry[SECRET_SIGNATURE] == "1b47061264138c4ac30d75fd1eb44270"
    assert registry["value"] == {
        "server": "registry.gpu-platform.internal",
        "username": "ci",
        "password": "s3cret",
    }


def test_default_settings_use_the_committed_dockerfile(tmp_path):
    settings = parse_settings("prod", stack_config("prod"))
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "Dockerfile").write_text(render_dockerfile(settings.build))
    assert write_dockerfile(settings.build, "prod", docker_dir) == docker_dir / "Dockerfile"
    assert not (docker_dir / "build").exists()


def test_other_settings_get_a_rendered_dockerfile_per_stack(tmp_path):
    settings = parse_settings("dev", {**stack_config("dev"), "cudaArchitectures": ["75", "86"]})
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "Dockerfile").write_text("FROM committed\n")
    path = write_dockerfile(settings.build, "dev", docker_dir)
    assert path == docker_dir / "build" / "dev.Dockerfile"
    assert Path(path).read_text() == render_dockerfile(settings.build)
    assert "build/" in (ROOT / "docker" / ".dockerignore").read_text().split()


def test_decisive_settings_travel_as_build_args_the_dockerfile_declares(program):
    args = program.one(IMAGE).props["build"]["args"]
    settings = parse_settings(program.stack, stack_config(program.stack))
    assert args["SHIMMY_VERSION"] == settings.build.shimmy.version
    assert args["CARGO_FEATURES"].split(",") == list(settings.build.shimmy.features)
    assert args["ACCELERATOR"] == settings.build.accelerator
    dockerfile = built_dockerfile(program)
    for name, value in args.items():
        assert f"ARG {name}={value}" in dockerfile or f'ARG {name}="{value}"' in dockerfile, name
