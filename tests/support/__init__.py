"""Helpers the test modules share: plain functions, classes and constants, one module per subject.

Fixtures live in the conftest.py files; test modules import helpers from here and never from
one another (tests/unit/test_import_rules.py checks it).
"""
