"""``burn doctor``: checks of the installation, the readers' locations, the ledger and the archive."""
