"""The Vouchers workspace (managers and admins): issue, campaigns with their funnels, revoke."""
