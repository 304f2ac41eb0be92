"""shimmy-gpu's CrossGuard rules: pure functions on the property maps the Pulumi engine hands over."""
