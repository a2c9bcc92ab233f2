"""``burn serve``: the v1 contracts and the ledger over HTTP (docs/server.md).

Starlette on uvicorn (the optional extra ``burn[server]``). The server holds the burn home's store
and archive: readers go through the same contract runner as the CLI (:func:`burn.cli.contract.document`),
writers append ledger entries through the store under its lock, and one writer keeps the archive
current. Nothing here is imported unless ``burn serve`` runs.
"""
