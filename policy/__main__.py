"""shimmy-gpu policy pack: `pulumi preview --policy-pack policy`.

One rule per module in shimmy_policy/rules/, listed in shimmy_policy/registry.py.
"""

from pulumi_policy import PolicyPack
from shimmy_policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
