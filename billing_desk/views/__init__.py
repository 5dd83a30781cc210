"""Qt widgets, dialogs and table models: the only package that imports PySide6 widgets.

Views get services through their constructor (a ``ViewContext``) and call them only through
the task runner; they never import sqlalchemy, requests or billing_desk.models
(tests/unit/test_import_rules.py keeps it so).
"""
