"""The voucher code key every desk of a test shares (the ``voucher_key`` fixture sets it)."""

TEST_KEY = "test-voucher-code-key-" + "x" * 20
