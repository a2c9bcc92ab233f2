"""What keeps secrets and local paths out of the ledger and the contracts: project identity,
git remotes, redaction."""
