"""`ShimmyImage`: builds the generated Dockerfile with BuildKit, pushes it, exposes the digest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from shimmy_gpu.dockerfile import build_args, render_dockerfile
from shimmy_gpu.settings import BuildSettings, ImageSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOCKER_DIR = PROJECT_DIR / "docker"


def write_dockerfile(build: BuildSettings, stack: str, docker_dir: Path = DOCKER_DIR) -> Path:
    """The Dockerfile for these settings: the committed one when it matches, else a rendered copy.

    Rendered copies go to docker/build/ (git-ignored, excluded from the build context by
    .dockerignore so one stack's file never changes another stack's context hash).
    """
    text = render_dockerfile(build)
    committed = docker_dir / "Dockerfile"
    if committed.read_text() == text:
        return committed
    path = docker_dir / "build" / f"{stack}.Dockerfile"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    return path


@dataclass(frozen=True)
class ShimmyImageArgs:
    build: BuildSettings
    image: ImageSettings
    dockerfile: Path
    context: Path = DOCKER_DIR


def _project_relative(path: Path) -> str:
    # Paths are stored in the image's state: relative ones keep clones in other folders diff-free.
    return str(path.resolve().relative_to(PROJECT_DIR))


class ShimmyImage(pulumi.ComponentResource):
    """A CUDA (or cpu-profile) shimmy image in the registry.

    `ref` is what workloads must run: `<repo>@sha256:...` once pushed, never the mutable tag.
    """

    ref: pulumi.Output[str]

    def __init__(self, name: str, args: ShimmyImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("shimmy-gpu:index:ShimmyImage", name, None, opts)
        image = args.image
        registry = None
        if image.username:
            registry = docker.RegistryArgsDict(
                server=image.registry_server,
                username=image.username,
                password=pulumi.Output.secret(image.password or ""),
            )
        build = docker.DockerBuildArgsDict(
            context=_project_relative(args.context),
            dockerfile=_project_relative(args.dockerfile),
            platform=args.build.platform,
            args=build_args(args.build),
            builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
        )
        if image.build_cache:
            # The last pushed image carries BuildKit's inline cache: a fresh builder (a new CI
            # runner) reuses every layer whose inputs did not change instead of compiling again.
            build["args"] = {**build["args"], "BUILDKIT_INLINE_CACHE": "1"}
            build["cache_from"] = docker.CacheFromArgsDict(images=[image.name])
        built = docker.Image(
            name,
            image_name=image.name,
            build=build,
            registry=registry,
            skip_push=not image.push,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Without a push there is no registry digest; the image-digest policy flags the tag.
        self.ref = built.repo_digest if image.push else built.image_name
        self.register_outputs({"ref": self.ref})
