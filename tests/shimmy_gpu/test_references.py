"""The image-reference grammar: how a reference splits, and which part of a bad one is named."""

import pytest

from shimmy_gpu import references

DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("reference", "parts"),
    [
        ("debian", ("", "debian", None, None)),
        (f"nvidia/cuda:12.4.1-devel@{DIGEST}", ("", "nvidia/cuda", "12.4.1-devel", DIGEST)),
        ("registry:5000/ml/shimmy", ("registry:5000", "ml/shimmy", None, None)),
        ("localhost/x:1", ("localhost", "x", "1", None)),
        ("[::1]:5000/x:1", ("[::1]:5000", "x", "1", None)),
        (f"registry.example.com/a/b@{DIGEST}", ("registry.example.com", "a/b", None, DIGEST)),
    ],
)
def test_a_reference_splits_as_docker_reads_it(reference, parts):
    assert references.split(reference) == parts


def test_a_name_past_255_characters_is_refused_with_its_length():
    name = "registry.example.com/" + "a" * 240
    assert references.image_problem(f"{name}@{DIGEST}", loopback_tags=False) == (
        f"the name {name[:40]!r}... is 261 characters long, at most 255"
    )


@pytest.mark.parametrize(
    ("registry", "loopback"),
    [("127.0.0.1", True), ("127.0.0.1:5000", True), ("localhost:1", True), ("[::1]", True),
     ("127.0.0.2:5000", False), ("localhost.example.com", False), ("[::2]:5000", False)],
)  # fmt: skip
def test_only_the_loopback_spellings_are_loopback(registry, loopback):
    assert references.is_loopback(registry) is loopback


def test_a_tag_from_loopback_is_enough_only_where_the_stack_says_so():
    assert references.image_problem("127.0.0.1:5000/base/rust:1.95.0", loopback_tags=True) is None
    refused = references.image_problem("127.0.0.1:5000/base/rust:1.95.0", loopback_tags=False)
    assert refused is not None and refused.endswith("(localRegistry true)")
    assert references.image_problem("10.0.0.1:5000/base/rust:1.95.0", loopback_tags=True) == (
        "it is not pinned by digest: a tag can move to another build"
    )
