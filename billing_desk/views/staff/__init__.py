"""The Staff workspace (admins): staff accounts, roles, enabling and passwords."""
