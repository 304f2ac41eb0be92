"""The engine tests feed the policy corpus' Deployment to the real engine: its pack goes on sys.path."""

import tests.policy.conftest  # noqa: F401  (puts policy/ on sys.path)
