"""shimmy-gpu policy pack: `pulumi preview --policy-pack policy` (rules in shimmy_policy/rules.py)."""

from pulumi_policy import PolicyPack
from shimmy_policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
