"""Conformance suites for plugin authors: import them into your own tests (docs/plugins.md).

* :mod:`burn.testing.store_conformance` — what every ledger ``Store`` must do;
* :mod:`burn.testing.reader_conformance` — what every ``Reader`` must do.

Each module is a set of pytest test functions over a fixture you provide (``store_factory``,
``reader_case``); ``from burn.testing.store_conformance import *`` in a test module collects them.
"""
