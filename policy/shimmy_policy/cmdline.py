"""shimmy's command line as a container runs it.

Kubernetes runs `command` (or the image's ENTRYPOINT, `shimmy` in shimmy's images) followed by `args`;
programs also wrap shimmy in `sh -c "exec shimmy serve ..."` or an init such as tini. What matters is
the argument list shimmy itself receives, and where in the container spec it lives (for remediation).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from shimmy_facts import VALUE_FLAGS

from shimmy_policy.props import is_unknown

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")", ">", ">>", "<"})
# Words that run the next word as the command (`exec shimmy serve`).
PREFIXES = frozenset({"exec", "nohup", "env", "time"})
_K8S_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


# The container field a remediation may append shimmy's flags to.
Editable = Literal["args", "command"]


@dataclass(frozen=True)
class Invocation:
    """The arguments shimmy receives (after the executable)."""

    tokens: tuple[str, ...]
    # None when shimmy's arguments come from a shell script or from the image's CMD, which a policy
    # cannot rewrite safely.
    editable: Editable | None
    # Part of the command line is computed by another resource and unknown during preview.
    unknown: bool = False

    def values(self, flag: str) -> list[str]:
        """Every value given to `flag`, in both `--flag value` and `--flag=value` forms."""
        found: list[str] = []
        tokens = self.tokens
        for i, token in enumerate(tokens):
            if token == flag:
                found.append(tokens[i + 1] if i + 1 < len(tokens) else "")
            elif token.startswith(flag + "="):
                found.append(token[len(flag) + 1 :])
        return found

    @property
    def subcommand(self) -> str | None:
        skip = False
        for token in self.tokens:
            if skip:
                skip = False
            elif token in VALUE_FLAGS:
                skip = True
            elif not token.startswith("-"):
                return token
        return None


def expand(token: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion from the container's literal env values."""
    return _K8S_VAR.sub(lambda m: env.get(m.group(1), m.group(0)), token)


def _expand_shell(script: str, env: Mapping[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return env.get(name, m.group(0))

    return _SHELL_VAR.sub(value, script)


def _runs(token: str, executables: Collection[str]) -> bool:
    return PurePosixPath(token).name in executables


def _script_words(script: str, env: Mapping[str, str]) -> list[str]:
    lexer = shlex.shlex(_expand_shell(script, env), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True  # operators (`;`, `&&`) still split off as their own words
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: the shell would fail too
        return []


def _script_start(words: list[str], executables: Collection[str]) -> int | None:
    """Index after the first word that runs one of `executables` in command position."""
    for i, word in enumerate(words):
        in_command_position = i == 0 or words[i - 1] in SHELL_OPERATORS or words[i - 1] in PREFIXES
        if in_command_position and _runs(word, executables):
            return i + 1
    return None


def _script_tokens(script: str, env: Mapping[str, str], executables: Collection[str]) -> tuple[str, ...]:
    words = _script_words(script, env)
    start = _script_start(words, executables)
    if start is None:
        return ()
    rest = words[start:]
    end = next((j for j, w in enumerate(rest) if w in SHELL_OPERATORS), len(rest))
    return tuple(rest[:end])


def shell_script(command: list[str], args: list[str]) -> str | None:
    """The script of `sh -c SCRIPT` (SCRIPT may come from args); None when no shell runs."""
    if not command or PurePosixPath(command[0]).name not in SHELLS:
        return None
    line = [*command, *args]
    if "-c" not in line:
        return None
    at = line.index("-c") + 1
    return line[at] if at < len(line) else ""


def runs_executable(
    command: list[str], args: list[str], env: Mapping[str, str], executables: Collection[str]
) -> bool:
    """Whether the command line names one of `executables` (directly or inside `sh -c`)."""
    script = shell_script(command, args)
    if script is not None:
        return _script_start(_script_words(script, env), executables) is not None
    if not command:
        return bool(args) and _runs(args[0], executables)
    return any(_runs(token, executables) for token in command)


def invocation(
    command: list[str], args: list[str], env: Mapping[str, str], executables: Collection[str]
) -> Invocation:
    """shimmy's arguments for a container whose image ENTRYPOINT is shimmy unless `command` says otherwise."""
    unknown = any(is_unknown(t) for t in [*command, *args])
    command = [expand(t, env) for t in command]
    args = [expand(t, env) for t in args]
    script = shell_script(command, args)
    if script is not None:
        return Invocation(_script_tokens(script, env, executables), None, unknown)
    if not command:
        if args and _runs(args[0], executables):
            return Invocation(tuple(args[1:]), "args", unknown)
        return Invocation(tuple(args), "args" if args else None, unknown)
    start = next((i + 1 for i, t in enumerate(command) if _runs(t, executables)), None)
    if start is None:
        # A wrapper entrypoint that hands its arguments on: shimmy sees what follows it.
        return Invocation(tuple([*command[1:], *args]), "args" if args else None, unknown)
    return Invocation(tuple([*command[start:], *args]), "args" if args else "command", unknown)


def without_flag(tokens: list[Any], flag: str) -> list[Any]:
    """`tokens` less every `flag value` pair and `flag=value` token."""
    out: list[Any] = []
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token == flag:
            skip = True
        elif not (isinstance(token, str) and token.startswith(flag + "=")):
            out.append(token)
    return out
