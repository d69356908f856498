"""Accounts: only a slow hash of each personal token is stored, in a 0600 file; tokens are
checked in constant time, an unknown key costing the same hash check as a wrong secret."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from panel.errors import ConfigError, InputError
from panel.team import accounts as accounts_module
from panel.team.accounts import Accounts, sign_in_link, valid_name


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    return Accounts(tmp_path)


def test_a_user_file_holds_hashes_only_and_only_its_owner_reads_it(accounts: Accounts, tmp_path: Path):
    issued = accounts.add("Ana Lima", "reviewer", "admin-person")
    text = accounts.path.read_text()
    secret = issued.token.split(".", 1)[1]
    assert secret not in text and issued.token not in text
    [stored] = json.loads(text)["users"]
    assert stored["hash"].startswith("$argon2id$") and stored["name"] == "Ana Lima"
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / ".team").stat().st_mode) == 0o700
    assert accounts.verify(issued.token).name == "Ana Lima"  # type: ignore[union-attr]


def test_wrong_tokens_sign_in_nobody(accounts: Accounts):
    issued = accounts.add("ana", "reviewer", "x")
    key, secret = issued.token.split(".")
    for wrong in (
        f"{key}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}",  # one character off
        f"{'A' * 12}.{secret}",  # an unknown key
        "",
        "garbage",
        issued.token + "x",
    ):
        assert accounts.verify(wrong) is None


def test_every_token_check_costs_one_hash_check_known_key_or_not(accounts: Accounts, monkeypatch):
    """Constant time: the secret goes through argon2's verify (itself constant-time) whatever is
    wrong with the token, so an unknown key is not answered faster than a wrong secret."""
    issued = accounts.add("ana", "reviewer", "x")
    calls: list[str] = []
    real = accounts_module._secret_matches
    monkeypatch.setattr(accounts_module, "_secret_matches", lambda h, s: calls.append(h) or real(h, s))
    key, secret = issued.token.split(".")
    for token in (issued.token, f"{key}.{'x' * 43}", f"{'Z' * 12}.{secret}", "not-even-a-token"):
        calls.clear()
        accounts.verify(token)
        assert len(calls) == 1 and calls[0].startswith("$argon2id$"), token


def test_reset_and_remove_end_the_old_token(accounts: Accounts):
    first = accounts.add("ana", "reviewer", "x")
    second = accounts.reset("ANA", "admin", role="publisher")
    assert accounts.verify(first.token) is None
    assert accounts.verify(second.token).role == "publisher"  # type: ignore[union-attr]
    assert second.account.key != first.account.key  # sessions hold the key: they end too
    assert accounts.remove(" ana ").name == "ana"
    assert accounts.verify(second.token) is None and accounts.empty


def test_bad_names_roles_and_duplicates_write_nothing(accounts: Accounts):
    accounts.add("ana", "reviewer", "x")
    before = accounts.path.read_bytes()
    for name, role in (
        ("<b>ana</b>", "reviewer"),
        ("", "reviewer"),
        ("a/b", "reviewer"),
        ("x" * 65, "reviewer"),
        ("bo", "owner"),
        ("ANA", "reviewer"),
        ("esc\x1b[31m", "reviewer"),
    ):
        with pytest.raises(InputError):
            accounts.add(name, role, "x")
    with pytest.raises(InputError, match="no user 'cy'"):
        accounts.remove("cy")
    assert accounts.path.read_bytes() == before
    assert valid_name("  José   da Silva ") == "José da Silva"
    assert valid_name("ana.lima+desk@example.org") == "ana.lima+desk@example.org"


def test_a_hand_broken_user_file_is_one_line_naming_it(accounts: Accounts):
    accounts.add("ana", "reviewer", "x")
    data = json.loads(accounts.path.read_text())
    data["users"][0]["role"] = "owner"
    accounts.path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as caught:
        accounts.all()
    assert str(accounts.path) in caught.value.line() and "role" in caught.value.line()
    accounts.path.write_text("{not json")
    with pytest.raises(ConfigError, match="invalid JSON"):
        accounts.all()


def test_the_user_file_is_reread_when_another_process_changes_it(accounts: Accounts, tmp_path: Path):
    ana = accounts.add("ana", "reviewer", "x")
    assert accounts.get("ana") is not None
    Accounts(tmp_path).remove("ana")  # another process: the CLI
    assert accounts.get("ana") is None and accounts.verify(ana.token) is None


def test_sign_in_links():
    assert sign_in_link("k.s") == "http://127.0.0.1:8765/login?token=k.s"
    assert sign_in_link("k.s", "::1", 9000) == "http://[::1]:9000/login?token=k.s"
