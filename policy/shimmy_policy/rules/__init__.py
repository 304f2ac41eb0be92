"""One rule per module; each module's RULE is listed in shimmy_policy.registry."""
