"""What each kind of config value may look like: one `Allowed` per kind, matched whole.

Every pattern is applied with `re.fullmatch` (a `$` would still accept a trailing newline) and
admits only the characters its target needs, so a value that passes can go into a Dockerfile line,
a URL, a path or a shell word without escaping surprises; the code still quotes it for its target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from shimmy_gpu import references


@dataclass(frozen=True)
class Allowed:
    pattern: re.Pattern[str]
    describes: str  # what an error message tells the user to write

    def matches(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None


def _allowed(pattern: str, describes: str) -> Allowed:
    return Allowed(re.compile(pattern), describes)


# The image-reference grammar's pieces (references.py) are the one home of DNS names and ports.
_LABEL = references.LABEL
_HOST = references.HOST_PORT
VERSION = _allowed(
    r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})", "a release such as 1.9.0"
)
SHA256 = _allowed(r"[0-9a-f]{64}", "64 lower-case hex digits (a sha256)")
_COMMIT = r"[0-9a-f]{40}"
_RELEASE_TAG = r"v[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}"
COMMIT = _allowed(_COMMIT, "a full 40-digit commit SHA (an immutable revision)")
GIT_TAG = _allowed(_RELEASE_TAG, "a release tag such as v1.9.0")
GIT_REF = _allowed(f"{_COMMIT}|{_RELEASE_TAG}", "a release tag such as v1.9.0 or a 40-digit commit SHA")
GIT_URL = _allowed(
    rf"https://{_HOST}(/[A-Za-z0-9._~-]+)+", "an https:// repository URL without user, query or fragment"
)
CUDA_VERSION = _allowed(r"1[2-9]\.[0-9]{1,2}(\.[0-9]{1,2})?", "a CUDA 12 or newer release such as 12.4.1")
CUDA_ARCHITECTURE = _allowed(
    r"[1-9][0-9]{1,2}[af]?(-real|-virtual)?", 'a CMake CUDA architecture such as "75"'
)
FEATURE = _allowed(r"[a-z][a-z0-9-]{0,39}", "a cargo feature name")
PATCH_NAME = _allowed(r"[a-z][a-z0-9-]{0,39}", "a patch name such as resident-model")
REPOSITORY = _allowed(references.PATH, "lower-case path components such as team/shimmy")
TAG = _allowed(references.TAG, "a Docker tag (letters, digits, _ . -)")
USERNAME = _allowed(
    r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}", "a registry user name (letters, digits, . _ @ + -)"
)
DNS_LABEL = _allowed(_LABEL, "a DNS label: lower-case letters, digits and -, at most 63")
DNS_SUBDOMAIN = _allowed(
    references.DNS_NAME, "a DNS subdomain name such as models or fast.ssd (at most 253 characters)"
)
# Label, selector and toleration keys: an optional DNS subdomain prefix and a name of at most 63.
QUALIFIED_NAME = _allowed(
    rf"({references.DNS_NAME}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?",
    "a label key such as nvidia.com/gpu.product: [DNS subdomain of at most 253 characters/]name, the name "
    "at most 63 letters, digits, - _ . that start and end with a letter or digit",
)
# A key of a Secret's or ConfigMap's data: no /, and never . or .. (they name folders once mounted).
DATA_KEY = _allowed(
    r"(?!\.\.?$)[-._a-zA-Z0-9]{1,253}",
    "a Secret key: letters, digits, - _ . (no /), at most 253, not . or ..",
)
LABEL_VALUE = _allowed(
    r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", "a label value (at most 63 characters)"
)
EXTENDED_RESOURCE = _allowed(
    rf"{_LABEL}(\.{_LABEL})+/[a-z0-9]([-a-z0-9_.]{{0,61}}[a-z0-9])?",
    "a vendor-prefixed resource such as nvidia.com/gpu or nvidia.com/mig-1g.10gb",
)
CPU = _allowed(
    r"([1-9][0-9]{0,3}(\.[0-9]{1,3})?|0\.[0-9]{1,3}|[1-9][0-9]{0,6}m)", "a CPU quantity such as 2 or 500m"
)
MEMORY = _allowed(r"[1-9][0-9]{0,6}(Ki|Mi|Gi|Ti|k|M|G|T)?", "a memory quantity such as 8Gi or 512Mi")
HF_REPO = _allowed(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}", "owner/name")
MODEL_FILE = _allowed(
    r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}\.gguf", "a GGUF file name such as phi-3-mini-q4.gguf"
)
# https only; no user:password@ (credentials go in a Secret), no query or fragment (signed URLs
# carry secrets there), a path of plain characters.
MODEL_URL = _allowed(
    rf"https://{_HOST}(/[A-Za-z0-9._~%+-]+)+",
    "an https:// URL of the GGUF file, without user, password, query or fragment",
)
ABSOLUTE_FOLDER = _allowed(r"(/[A-Za-z0-9][A-Za-z0-9._-]{0,62}){1,8}", "an absolute folder such as /models")
CIDR = _allowed(
    r"(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})(\.(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})){3}/([0-9]|[12][0-9]|3[0-2])",
    "an IPv4 CIDR such as 10.0.0.0/8",
)


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def quantity(text: str) -> Decimal:
    """A CPU or memory quantity as CPU and MEMORY admit it, in base units."""
    if text.endswith("m"):
        return Decimal(text[:-1]) / 1000
    match = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T)?", text)
    number, unit = match.group(1), match.group(2)
    return Decimal(number) * (_BINARY.get(unit) or _DECIMAL.get(unit) or 1)
