"""`crunch.external`: the third-party helpers crunch-cli 13 bundles, as far as modules use
them."""
