"""The finance views: the Payments workspace and what it composes (review, exceptions, month report)."""
