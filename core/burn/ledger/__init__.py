"""The ledger's built-in ``file`` store and the merge rules every store applies (DESIGN §5, §6).
The ``Store`` protocol itself is public API: :mod:`burn.store`."""
