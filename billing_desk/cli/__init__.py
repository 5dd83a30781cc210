"""The `billing-desk` command line: a front door over the same services as the GUI."""
