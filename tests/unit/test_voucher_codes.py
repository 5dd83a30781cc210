"""Voucher codes: entropy, alphabet, grouping, normalisation, the keyed hash and the key source."""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from pathlib import Path

import pytest

from billing_desk.config import Secret, VoucherKeySettings, load_settings
from billing_desk.domain.errors import ConfigError, ValidationError
from billing_desk.services.vouchers.codes import (
    ALPHABET,
    CODE_LENGTH,
    code_bits,
    code_hash,
    generate_code,
    generate_codes,
    last4,
    normalise_code,
    resolve_code_key,
)

GROUPED = re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){4}$")


def test_alphabet_has_no_look_alikes_and_codes_carry_at_least_80_bits() -> None:
    assert not set(ALPHABET) & set("0O1IL")
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert code_bits() >= 80


@pytest.mark.slow
def test_a_million_codes_no_collision_alphabet_respected_and_uniform() -> None:
    codes = generate_codes(1_000_000)
    assert len(codes) == 1_000_000
    assert len(set(codes)) == 1_000_000
    counts: Counter[str] = Counter()
    for code in codes[:200_000]:
        assert GROUPED.match(code)
        counts.update(code.replace("-", ""))
    assert set(counts) == set(ALPHABET)
    # Every character is equally likely: with 4,000,000 draws each count is within 1% of
    # the expectation (about 8 standard deviations, so this never flakes by chance).
    expected = 200_000 * CODE_LENGTH / len(ALPHABET)
    for char, n in counts.items():
        assert abs(n - expected) / expected < 0.01, (char, n, expected)
    # No code shares even its first 10 characters (50 bits) with another in a million.
    assert len({c[:12] for c in codes}) == 1_000_000
    assert all(set(c.replace("-", "")) <= set(ALPHABET) for c in codes)


def test_chi_square_of_character_frequencies_is_plausible() -> None:
    chars = "".join(generate_codes(50_000)).replace("-", "")
    counts = Counter(chars)
    expected = len(chars) / len(ALPHABET)
    chi2 = sum((counts[c] - expected) ** 2 / expected for c in ALPHABET)
    # 30 degrees of freedom: the 99.999th percentile is about 73.
    assert chi2 < 73


def test_single_code_is_grouped() -> None:
    assert GROUPED.match(generate_code())


@pytest.mark.parametrize("typed", [
    "abcd-efgh-jkmn-pqrs-tuvw", " ABCD EFGH JKMN PQRS TUVW ", "ABCDEFGHJKMNPQRSTUVW", "abcd_efgh.jkmn-pqrs–tuvw",
    "ＡＢＣＤ-EFGH-JKMN-PQRS-TUVW",
])
def test_normalisation_ignores_case_spaces_dashes(typed: str) -> None:
    assert normalise_code(typed) == "ABCDEFGHJKMNPQRSTUVW"


@pytest.mark.parametrize("typed", ["", "   ", "ABCD-EFGH", "ABCD-EFGH-JKMN-PQRS-TUV0", "OBCD-EFGH-JKMN-PQRS-TUVW",
                                   "ABCD-EFGH-JKMN-PQRS-TUVW-X", "ABCD-EFGH-JKMN-PQRS-TUV!"])
def test_malformed_codes_are_refused_with_what_a_code_looks_like(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        normalise_code(typed)
    assert err.value.field == "code"
    assert "code" in err.value.message


def test_hash_is_keyed_and_deterministic() -> None:
    plain = "ABCDEFGHJKMNPQRSTUVW"
    key_a, key_b = b"a" * 32, b"b" * 32
    assert code_hash(key_a, plain) == code_hash(key_a, plain)
    assert code_hash(key_a, plain) != code_hash(key_b, plain)
    assert len(code_hash(key_a, plain)) == 64
    assert plain not in code_hash(key_a, plain)
    assert last4(plain) == "TUVW"


def _settings(tmp_path: Path, code_key: str | None = None, **env: str) -> VoucherKeySettings:
    """The key source as the configuration reads it from a file with ``code_key`` and ``env``."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[vouchers]\ncode_key = "{code_key}"\n' if code_key else "", encoding="utf-8")
    return load_settings({"BILLING_DESK_CONFIG": str(cfg), **env}).vouchers


def _key(source: VoucherKeySettings) -> bytes:
    return resolve_code_key(source.key, source.key_file)


def test_key_from_environment_wins(tmp_path: Path) -> None:
    key = _key(_settings(tmp_path, "c" * 40, BILLING_DESK_VOUCHER_KEY="e" * 40))
    assert key == b"e" * 40


def test_key_from_config_file_section(tmp_path: Path) -> None:
    assert _key(_settings(tmp_path, "c" * 40)) == b"c" * 40
    assert resolve_code_key(Secret("s" * 40), tmp_path / "unused.key") == b"s" * 40


def test_short_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="too short"):
        VoucherKeySettings.from_environment({"BILLING_DESK_VOUCHER_KEY": "short"})


def test_key_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "voucher-code.key"
    first = resolve_code_key(None, path)
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first) >= 32
    assert resolve_code_key(None, path) == first
    assert len(first) == 64
