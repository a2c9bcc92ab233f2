"""The contract runtime (DESIGN §10): what every published surface shares.

Small modules, one job each: :mod:`.schemas` (finding, loading and validating the JSON Schemas),
:mod:`.canonical` (RFC 8785 bytes and the rows digest), :mod:`.framing` (JSON and NDJSON
documents, streamed), :mod:`.cursor` (signed keyset cursors and resets), :mod:`.profile` (what an
identity profile may show), :mod:`.meta` (the meta block), :mod:`.run` (one export from an
exporter plugin to bytes) and :mod:`.cli` (the ``export``, ``report`` and ``schema`` commands).
Exporter plugins supply the query and the row shape (:mod:`burn.exporter`).
"""
