"""The generated Dockerfile: what each profile builds, how, and what the runtime image carries."""

import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from shimmy_facts import CRATE_SHA256, RUNTIME_UID

from shimmy_gpu.config import parse_settings
from shimmy_gpu.dockerfile import gencode_flags, render_dockerfile
from shimmy_gpu.stack_config import raw_config

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = ROOT / ".venv" / "bin" / "hadolint"
REGENERATE = ".venv/bin/python scripts/dockerfile.py > docker/Dockerfile"
RUN_AS = RUNTIME_UID
RUNTIME = "debian:bookworm-slim@sha256:7c7b2c966bc9ee8cedfeef67e0e279108992c77681fa595db4a9d65c06ccc587"


def build_settings(overrides):
    """Pulumi.yaml's defaults (no registry: nothing is pushed) with overrides, validated."""
    return parse_settings("default", raw_config(None, {"pushImage": False, **overrides})).build


def cuda_settings(**overrides):
    return build_settings(overrides)


DEBIAN = "debian:bookworm@sha256:30482e873082e906a4908c10529180aefb6f77620aea7404b909829fadc5d168"


def cpu_settings(**overrides):
    cpu = {"accelerator": "cpu", "cargoFeatures": ["huggingface", "llama"], "builderImage": DEBIAN}
    return build_settings({**cpu, **overrides})


def stages(text: str) -> dict[str, list[tuple[str, str]]]:
    """Stage name -> its instructions (keyword, arguments), continuation lines joined."""
    logical = re.sub(r"\\\n", " ", text)
    result: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        if keyword == "FROM":
            current = []
            result[args.split(" AS ")[1]] = current
        current.append((keyword, " ".join(args.split())))
    return result


def instructions(text: str, stage: str, keyword: str) -> list[str]:
    return [args for kw, args in stages(text)[stage] if kw == keyword]


def env(text: str, stage: str) -> dict[str, str]:
    pairs = {}
    for args in instructions(text, stage, "ENV"):
        for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', args):
            pairs[key] = value.strip('"')
    return pairs


def labels(text: str) -> dict[str, str]:
    (args,) = instructions(text, "runtime", "LABEL")
    return dict(re.findall(r'([\w.-]+)="([^"]*)"', args))


def build_run(text: str) -> str:
    (run,) = [r for r in instructions(text, "builder", "RUN") if "cargo install" in r]
    return run


def test_committed_dockerfile_is_the_output_for_the_default_settings():
    committed = (ROOT / "docker" / "Dockerfile").read_text()
    assert committed == render_dockerfile(cuda_settings()), f"docker/Dockerfile is stale: run `{REGENERATE}`"


def test_rendering_is_pure():
    assert render_dockerfile(cuda_settings()) == render_dockerfile(cuda_settings())


@pytest.mark.parametrize("settings", [cuda_settings(), cpu_settings()], ids=["cuda", "cpu"])
def test_hadolint_is_clean(settings, tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(render_dockerfile(settings))
    result = subprocess.run([str(HADOLINT), "--format", "json", str(path)], capture_output=True, text=True)
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0


def test_cuda_builder_is_the_devel_image_with_the_rust_toolchain_copied_in():
    text = render_dockerfile(cuda_settings())
    assert list(stages(text)) == ["rust", "builder", "runtime"]
    rust, builder = stages(text)["rust"][0][1], stages(text)["builder"][0][1]
    assert re.fullmatch(r"rust:1\.88-slim-bookworm@sha256:[0-9a-f]{64} AS rust", rust)
    assert re.fullmatch(r"nvidia/cuda:12\.4\.1-devel-ubuntu22\.04@sha256:[0-9a-f]{64} AS builder", builder)
    copies = instructions(text, "builder", "COPY")
    assert "--from=rust /usr/local/cargo /usr/local/cargo" in copies
    assert "--from=rust /usr/local/rustup /usr/local/rustup" in copies
    (apt,) = [r for r in instructions(text, "builder", "RUN") if "apt-get install" in r]
    for package in ("cmake", "clang", "libclang-dev", "build-essential"):
        assert f" {package} " in apt


def test_cuda_build_gets_llama_cuda_and_the_configured_architectures():
    text = render_dockerfile(cuda_settings(cudaArchitectures=["75", "86"]))
    builder = instructions(text, "builder", "ARG")
    assert "CARGO_FEATURES=huggingface,llama-cuda" in builder
    assert 'CUDA_ARCHITECTURES="75;86"' in builder
    assert env(text, "builder")["CMAKE_CUDA_ARCHITECTURES"] == "${CUDA_ARCHITECTURES}"
    assert env(text, "builder")["CUDA_PATH"] == "/usr/local/cuda"
    run = build_run(text)
    assert '--no-default-features --features "${CARGO_FEATURES}"' in run
    assert 'test "${ACCELERATOR}" = cuda' in run


def test_no_native_cpu_code():
    for settings in (cuda_settings(), cpu_settings()):
        text = render_dockerfile(settings)
        assert "native" not in text.replace("GGML_NATIVE", "")
        builder_env = env(text, "builder")
        # llama.cpp keeps -march=native unless SOURCE_DATE_EPOCH is in the environment.
        assert "SOURCE_DATE_EPOCH" in builder_env
        assert builder_env["CFLAGS"] == builder_env["CXXFLAGS"] == "-march=x86-64-v3"


def test_by_default_the_build_uses_every_core_of_the_builder():
    run = build_run(render_dockerfile(cuda_settings()))
    assert "taskset" not in run and "--jobs" not in run


def test_build_jobs_bound_the_build_to_that_many_of_the_cpus_it_may_use():
    run = build_run(render_dockerfile(cuda_settings(buildJobs=3)))
    assert "--jobs 3" in run
    # The CPU list is read from the build's own affinity, never written down.
    assert "taskset -pc $$" in run and "head -n 3" in run
    assert not re.search(r"--cpu-list [0-9]", run)


def test_the_cpu_list_is_the_first_cpus_the_build_may_use(tmp_path):
    run = build_run(render_dockerfile(cuda_settings(buildJobs=2)))
    pick = re.search(r'taskset --cpu-list "\$\((.*?)\)" cargo', run).group(1)
    script = tmp_path / "pick.sh"
    script.write_text(f'taskset() {{ echo "pid $$\'s current affinity list: 3,5-7"; }}\necho "$({pick})"\n')
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "3,5"


def test_only_the_shimmy_server_is_built():
    assert "--bin shimmy " in build_run(render_dockerfile(cuda_settings()))


def test_cargo_install_is_locked_with_cache_mounts_of_this_project_and_profile():
    for settings, profile in ((cuda_settings(), "cuda"), (cpu_settings(), "cpu")):
        run = build_run(render_dockerfile(settings))
        assert "cargo install --locked --path ." in run
        for target in ("/usr/local/cargo/registry", "/usr/local/cargo/git", "/src/target"):
            assert re.search(rf"--mount=type=cache,id=shimmy-gpu-{profile}-[\w-]+,target={target} ", run), (
                target
            )


def test_static_cublas_keeps_only_the_configured_architectures():
    text = render_dockerfile(cuda_settings(cudaArchitectures=["75", "90a", "86-virtual"]))
    (prune,) = [r for r in instructions(text, "builder", "RUN") if "nvprune" in r]
    flags = "-gencode arch=compute_75,code=sm_75 -gencode arch=compute_90a,code=sm_90a "
    flags += "-gencode arch=compute_86,code=compute_86"
    assert f"nvprune {flags} -o" in prune
    assert "test \"${CUDA_ARCHITECTURES}\" = '75;90a;86-virtual'" in prune
    assert "for lib in cublas cublasLt" in prune
    # before the build links them
    builder = [args for kw, args in stages(text)["builder"] if kw == "RUN"]
    assert builder.index(prune) < builder.index(build_run(text))
    assert "nvprune" not in render_dockerfile(cpu_settings())


def test_gencode_flags_name_machine_code_or_ptx():
    assert gencode_flags(("75-real", "80-virtual")) == [
        "-gencode", "arch=compute_75,code=sm_75", "-gencode", "arch=compute_80,code=compute_80",
    ]  # fmt: skip


def test_crate_source_is_downloaded_and_checked_against_its_sha256():
    text = render_dockerfile(cuda_settings())
    (fetch,) = [r for r in instructions(text, "builder", "RUN") if "shimmy.crate" in r]
    assert "https://static.crates.io/crates/shimmy/shimmy-${SHIMMY_VERSION}.crate" in fetch
    assert "--proto =https" in fetch
    # sha256sum -c wants two spaces between checksum and file: check the raw text.
    assert f"echo '{CRATE_SHA256['1.9.0']}  /tmp/shimmy.crate' | sha256sum -c -" in text
    assert 'grep -qx "version = \\"${SHIMMY_VERSION}\\"" Cargo.toml' in fetch
    # Not the registry install, which crates.io refuses for the yanked 1.9.0.
    assert "cargo install shimmy" not in text


def test_git_source_is_fetched_by_its_tag_or_checked_commit():
    url = "https://github.com/Michael-A-Kuykendall/shimmy.git"
    text = render_dockerfile(cuda_settings(shimmySource="git", shimmyGitRef="v1.9.0"))
    (fetch,) = [r for r in instructions(text, "builder", "RUN") if "git fetch" in r]
    assert f"git remote add origin {url}" in fetch
    assert "git fetch -q --depth 1 origin refs/tags/v1.9.0 && git checkout -q FETCH_HEAD" in fetch
    assert labels(text)["org.opencontainers.image.revision"] == "v1.9.0"
    assert labels(text)["org.opencontainers.image.source"] == url
    assert "static.crates.io" not in text
    commit = "c" * 40
    text = render_dockerfile(cuda_settings(shimmySource="git", shimmyGitRef=commit))
    (fetch,) = [r for r in instructions(text, "builder", "RUN") if "git fetch" in r]
    assert f"origin {commit} && git checkout -q FETCH_HEAD" in fetch
    assert f'test "$(git rev-parse HEAD)" = {commit}' in fetch


def test_a_hostile_git_setting_reaches_the_run_line_only_quoted(tmp_path):
    # Validation refuses these; the renderer still quotes every value it puts in a shell.
    hostile = replace(
        cuda_settings(shimmySource="git"),
        shimmy=replace(
            cuda_settings().shimmy, source="git", git_url="https://x/$(touch pwned)", git_ref="v1.9.0"
        ),
    )
    (fetch,) = [r for r in instructions(render_dockerfile(hostile), "builder", "RUN") if "git fetch" in r]
    assert "origin 'https://x/$(touch pwned)'" in fetch


def test_cuda_runtime_is_slim_non_root_and_asks_for_compute_and_utility():
    text = render_dockerfile(cuda_settings())
    runtime = stages(text)["runtime"]
    assert runtime[0] == ("FROM", f"{RUNTIME} AS runtime")
    # Only the binary: cudart/cuBLAS are static, libcuda.so.1 comes from the node.
    assert [kw for kw, _ in runtime if kw in ("RUN", "ADD")] == []
    assert instructions(text, "runtime", "COPY") == [
        "--from=builder /opt/shimmy/bin/shimmy /usr/local/bin/shimmy"
    ]
    assert env(text, "runtime") == {
        "NVIDIA_VISIBLE_DEVICES": "all",
        "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    }
    # Numeric and the same the pod enforces (runAsUser), so runAsNonRoot can verify it.
    assert instructions(text, "runtime", "USER") == [f"{RUN_AS}:{RUN_AS}"]
    assert RUN_AS > 0
    assert instructions(text, "runtime", "ENTRYPOINT") == ['["shimmy"]']
    assert runtime[-1][0] == "ENTRYPOINT"


def test_cuda_labels_name_version_features_cuda_and_architectures():
    text = render_dockerfile(cuda_settings(cudaArchitectures=["75", "89"]))
    found = labels(text)
    assert found["org.opencontainers.image.version"] == "${SHIMMY_VERSION}"
    assert found["io.shimmy-gpu.accelerator"] == "${ACCELERATOR}"
    assert found["io.shimmy-gpu.cargo-features"] == "${CARGO_FEATURES}"
    assert found["io.shimmy-gpu.cuda-version"] == "12.4.1"
    assert found["io.shimmy-gpu.cuda-architectures"] == "${CUDA_ARCHITECTURES}"
    # The labels expand ARGs the runtime stage declares with the rendered values.
    runtime_args = instructions(text, "runtime", "ARG")
    assert runtime_args == instructions(text, "builder", "ARG")
    assert {"ACCELERATOR=cuda", "SHIMMY_VERSION=1.9.0", 'CUDA_ARCHITECTURES="75;89"'} <= set(runtime_args)


def test_cpu_profile_has_the_same_shape_without_cuda():
    text = render_dockerfile(cpu_settings())
    assert list(stages(text)) == ["rust", "builder", "runtime"]
    assert stages(text)["builder"][0] == ("FROM", f"{DEBIAN} AS builder")
    assert "CARGO_FEATURES=huggingface,llama" in instructions(text, "builder", "ARG")
    assert 'test "${ACCELERATOR}" = cpu' in build_run(text)
    assert "cuda" not in text.lower().replace("llama-cuda", "")
    assert "NVIDIA" not in text
    assert not [k for k in labels(text) if "cuda" in k]
    assert labels(text)["org.opencontainers.image.description"].endswith("built for CPU only")
    assert instructions(text, "runtime", "ENTRYPOINT") == ['["shimmy"]']
    assert instructions(text, "runtime", "USER") == instructions(
        render_dockerfile(cuda_settings()), "runtime", "USER"
    )


def test_base_image_overrides_reach_every_stage():
    settings = cpu_settings(
        localRegistry=True,
        builderImage="127.0.0.1:5000/base/builder:bookworm",
        rustImage="127.0.0.1:5000/base/rust:1.95.0",
        runtimeImage="127.0.0.1:5000/base/runtime:bookworm",
    )
    text = render_dockerfile(settings)
    assert [s[0][1] for s in stages(text).values()] == [
        "127.0.0.1:5000/base/rust:1.95.0 AS rust",
        "127.0.0.1:5000/base/builder:bookworm AS builder",
        "127.0.0.1:5000/base/runtime:bookworm AS runtime",
    ]
    assert labels(text)["org.opencontainers.image.base.name"] == "127.0.0.1:5000/base/runtime:bookworm"


def test_arm64_keeps_the_build_scripts_own_cpu_baseline():
    settings = replace(cuda_settings(), platform="linux/arm64")
    builder_env = env(render_dockerfile(settings), "builder")
    assert "CFLAGS" not in builder_env
    assert "SOURCE_DATE_EPOCH" in builder_env


def test_the_patches_apply_after_the_checksum_in_their_order_and_a_stale_one_stops_the_build():
    text = render_dockerfile(cuda_settings())
    runs = instructions(text, "builder", "RUN")
    fetch = next(i for i, r in enumerate(runs) if "sha256sum -c" in r)
    apply = next(i for i, r in enumerate(runs) if "git apply" in r)
    assert fetch < apply < next(i for i, r in enumerate(runs) if "cargo install" in r)
    patch = runs[apply]
    files = "0001-sampler 0002-resident-model 0003-graceful-shutdown 0004-client-disconnect"
    assert f"for patch in {files.replace(' ', '.patch ')}.patch; do" in patch
    assert "no longer applies to shimmy ${SHIMMY_VERSION}: refresh it (docker/patches/README.md)" in patch
    # The build argument and the files copied can never disagree, and the label records the set.
    assert 'test "${SHIMMY_PATCHES}" = sampler,resident-model,graceful-shutdown,client-disconnect' in patch
    assert labels(text)["io.shimmy-gpu.patches"] == "${SHIMMY_PATCHES:-none}"


def test_only_the_patches_the_stack_names_are_copied_and_none_means_shimmy_as_published():
    text = render_dockerfile(cuda_settings(shimmyPatches=["sampler"]))
    (copy,) = [c for c in instructions(text, "builder", "COPY") if "patches/" in c]
    assert copy.split() == ["patches/shimmy-1.9.0/0001-sampler.patch", "/tmp/patches/"]
    pristine = render_dockerfile(cuda_settings(shimmyPatches=[]))
    assert "git apply" not in pristine and "patches/" not in pristine.split("LABEL")[0]
