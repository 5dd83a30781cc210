"""The Plans workspace (managers and admins): the plans catalog and its editing."""
