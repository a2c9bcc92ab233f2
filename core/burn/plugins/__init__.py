"""The plugin seam: hook specifications, the failure-isolating manager, the entry-point cache, and
the choice among registered ledger stores."""
