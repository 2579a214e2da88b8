"""Sign-in that resists guessing (issue 12, item 4): back-off and lockout per account name and
per client, for passwords, tokens and setup tokens alike; the same work for unknown names; a
password policy; account administration, each change audited; sessions and tokens of a
deactivated account refused; OpenID Connect accounts found by issuer and subject; the first
administrator only from the command line or with a one-time setup token. Runs on SQLite and on
a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import getpass
from types import SimpleNamespace

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import AccessDenied, InputInvalid, NotSignedIn, RecordNotFound, StoreConflict
from engine.models.people import Actor
from engine.service import accounts
from engine.service.session import Access
from engine.store import guard, passwords, tokens
from engine.store import users as users_module
from engine.store.bootstrap import WrongSetupToken, issue_setup_token
from engine.store.tables import EventRow, SignInGuardRow
from tests.conftest import PASSWORD

runner = CliRunner()
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
WRONG = "unknown username or wrong password"
ISSUER = "https://login.example-trust.nhs.uk/tenant/v2.0"


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def events(store, *actions: str) -> list[EventRow]:
    with store.db.read() as session:
        query = select(EventRow).order_by(EventRow.seq)
        if actions:
            query = query.where(EventRow.action.in_(actions))
        return list(session.execute(query).scalars())


def admin_of(store) -> Access:
    """The first administrator (made by the operator on an empty store, as `dtpa users add`
    does), acting; every account in these tests is added through DTPA, so it has its events."""
    if not store.users():
        accounts.first_administrator(store, "ada.admin", "Ada Admin", PASSWORD, "ops")
    return Access(Actor(username="ada.admin", name="Ada Admin", role="administrator"), store)


@pytest.fixture
def kim(store):
    admin_of(store).add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD)
    return store


class Spy:
    """Wraps a function and records the arguments of every call."""

    def __init__(self, function):
        self.function, self.calls = function, []

    def __call__(self, *args):
        self.calls.append(args)
        return self.function(*args)


# --- back-off and lockout ------------------------------------------------------------------------

def test_200_wrong_guesses_lock_the_account_and_the_right_password_waits_for_the_lock(
        kim, monkeypatch):
    checked = Spy(users_module.password_matches)
    monkeypatch.setattr(users_module, "password_matches", checked)
    refusals = []
    for n in range(200):  # all in the same second, as a script would send them
        with pytest.raises(AccessDenied) as refused:
            kim.authenticate("kim.lee", f"guess number {n}", now=T0)
        refusals.append(refused.value.message)
    assert len(checked.calls) == 5  # only five passwords were ever checked
    assert refusals[:4] == [WRONG] * 4
    assert refusals[4].startswith(WRONG + "; too many failed sign-ins")
    assert all("paused until 2026-03-02 09:15 UTC" in r for r in refusals[5:])
    for moment in (T0, minutes(14.9)):  # the right password is refused, without being checked
        with pytest.raises(AccessDenied, match="paused until 2026-03-02 09:15 UTC"):
            kim.authenticate("kim.lee", PASSWORD, now=moment)
    assert len(checked.calls) == 5
    assert kim.authenticate("kim.lee", PASSWORD, now=minutes(15.01)).name == "Kim Lee"
    # the failures and the lockout are audit events; the refusals while locked are not
    assert [e.action for e in events(kim, "signin_failed", "signin_locked")] == \
        ["signin_failed"] * 5 + ["signin_locked"]
    locked = events(kim, "signin_locked")[0]
    assert locked.detail["username"] == "kim.lee" and locked.detail["locked"] == "account"
    assert locked.detail["system"] is True and kim.verify().ok


def test_each_lockout_in_a_row_doubles_and_a_success_starts_again(kim):
    def fail_five(start: float) -> str:
        for n in range(5):
            with pytest.raises(AccessDenied) as refused:
                kim.authenticate("kim.lee", "not the password", now=minutes(start + n / 60))
        return refused.value.message

    assert "paused until 2026-03-02 09:15" in fail_five(0)  # 15 minutes
    assert "paused until 2026-03-02 09:50" in fail_five(20)  # 30 minutes, from 09:20
    assert "paused until 2026-03-02 11:00" in fail_five(60)  # 60 minutes, from 10:00
    kim.authenticate("kim.lee", PASSWORD, now=minutes(121))
    assert "paused until 2026-03-02 11:25" in fail_five(130)  # 15 minutes again, from 11:10


def test_the_lockout_says_nothing_about_whether_the_account_exists(kim):
    said = {}
    for name in ("kim.lee", "no.such.person"):
        messages = []
        for _ in range(7):
            with pytest.raises(AccessDenied) as refused:
                kim.authenticate(name, "not the password", now=T0)
            messages.append(refused.value.message)
        said[name] = messages
    assert said["kim.lee"] == said["no.such.person"]
    assert "kim.lee" not in " ".join(said["kim.lee"])
    # the guard keeps digests, never what was typed as a name
    with kim.db.read() as session:
        keys = [row.key for row in session.execute(select(SignInGuardRow)).scalars()]
    assert len(keys) == 2 and not any("kim" in k or "no.such" in k for k in keys)
    unknown = [e.detail for e in events(kim, "signin_failed") if not e.detail["account_exists"]]
    assert unknown and all(d["username"].startswith("sha256:") for d in unknown)
    assert "no.such.person" not in str([e.detail for e in events(kim)])


def test_one_client_trying_many_names_is_locked_for_every_name(kim):
    attacker, ward_pc = "web 203.0.113.9", "web 10.20.0.14"
    for n in range(20):  # password spraying: one guess for each of twenty names
        with pytest.raises(AccessDenied):
            kim.authenticate(f"user{n}", "Winter2026!!", client=attacker, now=T0)
    with pytest.raises(AccessDenied, match="paused until 2026-03-02 09:15 UTC"):
        kim.authenticate("kim.lee", PASSWORD, client=attacker, now=minutes(1))
    assert kim.authenticate("kim.lee", PASSWORD, client=ward_pc, now=minutes(1)).name == "Kim Lee"
    assert kim.authenticate("kim.lee", PASSWORD, client=attacker, now=minutes(16)).name == "Kim Lee"
    (lock,) = events(kim, "signin_locked")
    assert (lock.detail["locked"], lock.detail["client"]) == ("client", attacker)


def test_a_right_password_gives_back_the_failure_counted_in_advance(kim):
    ward_pc = "web 10.20.0.14"
    for _ in range(21):  # many sign-ins from one ward computer never lock it
        kim.authenticate("kim.lee", PASSWORD, client=ward_pc, now=T0)
    for n in range(19):  # nineteen typos, spread over names so that no account locks
        with pytest.raises(AccessDenied, match=f"^{WRONG}$"):
            kim.authenticate(f"user{n}", "not the password", client=ward_pc, now=T0)
    kim.authenticate("kim.lee", PASSWORD, client=ward_pc, now=T0)  # the twentieth: right
    with pytest.raises(AccessDenied, match="too many failed sign-ins"):
        kim.authenticate("user99", "not the password", client=ward_pc, now=T0)


def test_unknown_tokens_count_against_the_client_and_lock_it(kim):
    _, token = tokens.issue(kim.db, "kim.lee", "script", ["read"], 24)
    for n in range(20):
        with pytest.raises(NotSignedIn, match="not one this database issued"):
            accounts.access_for(kim, f"dtpa_guess{n}", client="command line eve@laptop")
    with pytest.raises(NotSignedIn, match="too many failed sign-ins"):
        accounts.access_for(kim, token, client="command line eve@laptop")
    assert accounts.access_for(kim, token, client="command line kim@ward-pc").actor.name == "Kim Lee"
    failed = events(kim, "signin_failed")
    assert len(failed) == 20 and {e.detail["via"] for e in failed} == {"token"}


def test_dtpa_login_is_locked_after_five_wrong_passwords(kim, store_url):
    def login(password: str):
        return runner.invoke(app, ["login", "kim.lee", "--password-stdin", "--db", store_url],
                             input=password + "\n")

    for _ in range(5):
        assert login("not the password").exit_code == 6
    refused = login(PASSWORD)
    assert refused.exit_code == 6 and "too many failed sign-ins" in refused.stderr
    assert "Traceback" not in refused.output
    clients = {e.detail["client"] for e in events(kim, "signin_failed")}
    assert clients == {accounts.this_machine()}
    assert clients.pop().startswith(f"command line {getpass.getuser()}@")


# --- the same work for an unknown name -----------------------------------------------------------

def test_an_unknown_name_is_checked_against_the_dummy_hash(kim, monkeypatch):
    checked = Spy(users_module.password_matches)
    monkeypatch.setattr(users_module, "password_matches", checked)
    with pytest.raises(AccessDenied, match=f"^{WRONG}$"):
        kim.authenticate("no.such.person", PASSWORD)
    assert [args[0] for args in checked.calls] == [passwords.DUMMY_HASH]
    with pytest.raises(AccessDenied, match=f"^{WRONG}$"):
        kim.authenticate("kim.lee", "not the password")
    assert checked.calls[-1][0].startswith("$argon2id$") and checked.calls[-1][0] != \
        passwords.DUMMY_HASH
    # and it is real Argon2 work: the verifier itself runs, on the dummy hash
    verified, original = [], PasswordHasher.verify

    def verify(self, password_hash, password):
        verified.append((password_hash, password))
        return original(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    with pytest.raises(AccessDenied):
        kim.authenticate("another.unknown", PASSWORD)
    assert verified == [(passwords.DUMMY_HASH, PASSWORD)]


def test_the_dummy_hash_costs_what_a_real_one_costs():
    dummy, hasher = extract_parameters(passwords.DUMMY_HASH), PasswordHasher()
    assert (dummy.type, dummy.time_cost, dummy.memory_cost, dummy.parallelism) == \
        (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    assert extract_parameters(passwords.hash_password(PASSWORD)) == dummy


# --- the password policy -------------------------------------------------------------------------

@pytest.mark.parametrize("password, why", [
    ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess'),
    ("password1234", "This is a very common password"),
    ("Qwertyuiop12", "similar to a commonly used password"),
    ("short pass", "at least 12 characters"),
])
def test_weak_and_common_passwords_are_refused_saying_why(store, password, why):
    admin = admin_of(store)
    with pytest.raises(InputInvalid) as refused:
        admin.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], password)
    assert why in refused.value.message
    if "12 characters" not in why:
        assert "passphrase of four or more unrelated words" in refused.value.message
    assert [u.username for u in store.users()] == ["ada.admin"]


def test_a_password_made_of_the_persons_own_name_is_refused(store):
    result = runner.invoke(app, ["users", "add", "root", "--name", "Rosa Admin", "--role",
                                 "administrator", "--password-stdin", "--db", str(store.db.url)],
                           input="aaaaaaaaaaaa\n")  # the first administrator too
    assert result.exit_code == 1 and "too easy to guess" in result.stderr
    admin = admin_of(store)
    with pytest.raises(InputInvalid, match="too easy to guess"):
        admin.add_user("adaeze.okonkwo", "Adaeze Okonkwo", "dpo", [], "adaeze.okonkwo.1")
    admin.add_user("kim.lee", "Kim Lee", "dpo", [], "adaeze.okonkwo.1")  # someone else's name
    with pytest.raises(InputInvalid, match="too easy to guess"):
        admin.reset_password("kim.lee", "aaaaaaaaaaaa")


# --- account administration ----------------------------------------------------------------------

def test_every_change_to_an_account_is_an_audit_event_naming_the_administrator(kim):
    admin = admin_of(kim)
    admin.deactivate("kim.lee")
    admin.reactivate("kim.lee")
    assert admin.change_role("kim.lee", "nurse_in_charge") == "clinician"
    assert admin.set_wards("kim.lee", ["Willow Ward", " Heron Ward "]) == ["Willow Ward"]
    admin.reset_password("kim.lee", "a brand new passphrase for kim")
    admin.link_identity("kim.lee", ISSUER, "0f3c-77aa")
    changes = events(kim, "account_deactivated", "account_reactivated", "account_role_changed",
                     "account_wards_changed", "account_password_reset", "account_oidc_linked")
    assert [(e.action, e.actor, e.role, e.detail["username"]) for e in changes] == [
        (action, "Ada Admin", "administrator", "kim.lee") for action in (
            "account_deactivated", "account_reactivated", "account_role_changed",
            "account_wards_changed", "account_password_reset", "account_oidc_linked")]
    assert changes[2].detail | {} == {"username": "kim.lee", "from": "clinician",
                                       "to": "nurse_in_charge"}
    assert changes[3].detail["to"] == ["Willow Ward", "Heron Ward"]
    assert "a brand new passphrase" not in str([e.detail for e in changes])
    signed_in = kim.authenticate("kim.lee", "a brand new passphrase for kim")
    assert (signed_in.role.value, signed_in.wards) == ("nurse_in_charge", ["Willow Ward", "Heron Ward"])
    assert kim.verify().ok


def test_only_an_administrator_changes_accounts_and_never_the_last_one(kim):
    nurse = Access(kim.authenticate("kim.lee", PASSWORD), kim)
    for change in (lambda: nurse.deactivate("kim.lee"), lambda: nurse.change_role("kim.lee", "dpo"),
                   lambda: nurse.set_wards("kim.lee", ["Heron Ward"]),
                   lambda: nurse.reset_password("kim.lee", "a brand new passphrase for kim"),
                   lambda: nurse.link_identity("kim.lee", ISSUER, "x"),
                   lambda: nurse.reactivate("kim.lee")):
        with pytest.raises(AccessDenied, match="may not manage users"):
            change()
    admin = admin_of(kim)
    with pytest.raises(InputInvalid, match="cannot deactivate your own account"):
        admin.deactivate("ada.admin")
    with pytest.raises(StoreConflict, match="only active administrator"):
        admin.change_role("ada.admin", "dpo")
    with pytest.raises(RecordNotFound, match="no account 'nobody'"):
        admin.deactivate("nobody")
    with pytest.raises(InputInvalid, match="unknown role 'superuser'"):
        admin.change_role("kim.lee", "superuser")
    assert not events(kim, "account_deactivated", "account_role_changed")


def test_a_deactivated_accounts_tokens_and_web_session_stop_working(kim):
    token = accounts.sign_in(kim, "kim.lee", PASSWORD).token
    session = Access.sign_in("kim.lee", PASSWORD, kim)
    assert accounts.access_for(kim, token).actor.name == "Kim Lee"
    assert Access.resume("kim.lee", session.signed_in_at, kim).actor.name == "Kim Lee"
    admin = admin_of(kim)
    admin.deactivate("kim.lee")
    with pytest.raises(NotSignedIn, match="revoked"):
        accounts.access_for(kim, token)
    with pytest.raises(NotSignedIn, match="deactivated"):
        Access.resume("kim.lee", session.signed_in_at, kim)
    with pytest.raises(AccessDenied, match=f"^{WRONG}$"):
        kim.authenticate("kim.lee", PASSWORD)
    (event,) = events(kim, "account_deactivated")
    assert event.detail["tokens_revoked"] == 1
    admin.reactivate("kim.lee")  # old token and old session stay ended; a new sign-in works
    with pytest.raises(NotSignedIn, match="revoked"):
        accounts.access_for(kim, token)
    with pytest.raises(NotSignedIn, match="ended your sessions"):
        Access.resume("kim.lee", session.signed_in_at, kim)
    fresh = Access.sign_in("kim.lee", PASSWORD, kim)
    assert Access.resume("kim.lee", fresh.signed_in_at, kim).actor.name == "Kim Lee"


def test_a_password_reset_ends_sessions_and_lifts_the_lockout(kim):
    session = Access.sign_in("kim.lee", PASSWORD, kim, now=T0)
    for _ in range(5):
        with pytest.raises(AccessDenied):
            kim.authenticate("kim.lee", "not the password")
    with pytest.raises(AccessDenied, match="too many failed sign-ins"):
        kim.authenticate("kim.lee", PASSWORD)
    admin_of(kim).reset_password("kim.lee", "a brand new passphrase for kim")
    with pytest.raises(NotSignedIn, match="ended your sessions"):
        Access.resume("kim.lee", session.signed_in_at, kim)
    assert kim.authenticate("kim.lee", "a brand new passphrase for kim").name == "Kim Lee"


def test_a_role_change_applies_to_a_session_at_once(kim):
    session = Access.sign_in("kim.lee", PASSWORD, kim)
    admin_of(kim).change_role("kim.lee", "auditor")
    assert Access.resume("kim.lee", session.signed_in_at, kim).actor.role.value == "auditor"


def test_the_command_line_administers_accounts(kim, store_url):
    admin_of(kim)
    token = accounts.sign_in(kim, "ada.admin", PASSWORD).token

    def dtpa(*args: str, stdin: str | None = None):
        return runner.invoke(app, [*args, "--db", store_url], env={"DTPA_TOKEN": token},
                             input=stdin)

    steps = [
        (["users", "deactivate", "kim.lee"], "deactivated kim.lee"),
        (["users", "reactivate", "kim.lee"], "reactivated kim.lee"),
        (["users", "set-role", "kim.lee", "--role", "nurse_in_charge"],
         "role clinician -> nurse_in_charge"),
        (["users", "set-wards", "kim.lee", "--ward", "Heron Ward", "--ward", "Oak Ward"],
         "wards Willow Ward -> Heron Ward, Oak Ward"),
        (["users", "link-oidc", "kim.lee", "--issuer", ISSUER, "--subject", "0f3c-77aa"],
         "linked to 0f3c-77aa"),
        (["users", "link-oidc", "kim.lee", "--unlink"], "unlinked"),
    ]
    for args, said in steps:
        result = dtpa(*args)
        assert result.exit_code == 0 and said in result.stdout, (args, result.output)
    reset = dtpa("users", "reset-password", "kim.lee", "--password-stdin",
                 stdin="a brand new passphrase for kim\n")
    assert reset.exit_code == 0, reset.output
    weak = dtpa("users", "reset-password", "kim.lee", "--password-stdin", stdin="aaaaaaaaaaaa\n")
    assert weak.exit_code == 1 and "too easy to guess" in weak.stderr
    assert [e.action for e in events(kim) if e.action.startswith("account_") and
            e.action != "account_added"] == [
        "account_deactivated", "account_reactivated", "account_role_changed",
        "account_wards_changed", "account_oidc_linked", "account_oidc_linked",
        "account_password_reset"]
    nurse = accounts.sign_in(kim, "kim.lee", "a brand new passphrase for kim").token
    refused = runner.invoke(app, ["users", "deactivate", "ada.admin", "--db", store_url],
                            env={"DTPA_TOKEN": nurse})
    assert refused.exit_code == 6 and "may not manage users" in refused.stderr


# --- OpenID Connect: issuer and subject, never e-mail --------------------------------------------

def test_an_identity_provider_account_is_found_by_issuer_and_subject_only(store):
    admin = admin_of(store)
    admin.add_user("kim.lee@trust.nhs.uk", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD)
    for issuer, subject in ((ISSUER, "0f3c-77aa"), (ISSUER, "kim.lee@trust.nhs.uk"),
                            ("", "kim.lee@trust.nhs.uk")):
        with pytest.raises(NotSignedIn):  # an e-mail address, as username or subject, is not enough
            Access.for_account(issuer, subject, store)
    admin.link_identity("kim.lee@trust.nhs.uk", ISSUER, "0f3c-77aa")
    assert Access.for_account(ISSUER, "0f3c-77aa", store).actor.username == "kim.lee@trust.nhs.uk"
    with pytest.raises(NotSignedIn, match="not linked"):  # same subject, another provider
        Access.for_account("https://evil.example.com/", "0f3c-77aa", store)
    admin.add_user("sam.patel", "Sam Patel", "dpo", [], PASSWORD)
    with pytest.raises(StoreConflict, match="linked to kim.lee@trust.nhs.uk already"):
        admin.link_identity("sam.patel", ISSUER, "0f3c-77aa")
    with pytest.raises(InputInvalid, match="https://"):
        admin.link_identity("sam.patel", "login.example", "x")
    with pytest.raises(InputInvalid, match="both the issuer and the subject"):
        admin.link_identity("sam.patel", ISSUER, None)
    admin.deactivate("kim.lee@trust.nhs.uk")
    with pytest.raises(NotSignedIn, match="not linked to an active DTPA account"):
        Access.for_account(ISSUER, "0f3c-77aa", store)
    (linked,) = events(store, "account_oidc_linked")
    assert (linked.actor, linked.detail["to"]) == ("Ada Admin", {"issuer": ISSUER,
                                                                "subject": "0f3c-77aa"})


# --- the first administrator: command line, or a one-time setup token ----------------------------

def test_a_setup_token_creates_the_first_administrator_once(store):
    token, _ = issue_setup_token(store, "ops")
    with pytest.raises(WrongSetupToken):
        Access.first_administrator("eve", "Eve Mallory", PASSWORD, "web form", store,
                                   setup_token="dtpa-setup-guessed", client="web 203.0.113.9")
    assert store.users() == []
    (failed,) = events(store, "signin_failed")
    assert (failed.detail["via"], failed.detail["client"]) == ("setup token", "web 203.0.113.9")
    made = Access.first_administrator("ada.admin", "Ada Admin", PASSWORD, "web form", store,
                                      setup_token=token, client="web 10.20.0.14")
    assert made.actor.role.value == "administrator"
    (added,) = events(store, "account_added")
    assert added.detail["bootstrap"] is True and added.detail["via"] == "web form"
    assert added.detail["setup_token"] and token not in str(added.detail)
    with pytest.raises(StoreConflict, match="accounts exist already"):
        Access.first_administrator("eve", "Eve Mallory", PASSWORD, "web form", store,
                                   setup_token=token)
    assert issue_setup_token(store, "ops") is None  # accounts exist: no more tokens


def test_a_setup_token_expires_and_only_the_newest_works(store):
    old, _ = issue_setup_token(store, "ops", now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    assert not Access.setup_token_pending(store)
    with pytest.raises(WrongSetupToken, match="used already or expired"):
        Access.first_administrator("ada.admin", "Ada Admin", PASSWORD, "web form", store,
                                   setup_token=old)
    first, _ = issue_setup_token(store, "ops")
    newest, _ = issue_setup_token(store, "ops")
    assert Access.setup_token_pending(store)
    with pytest.raises(WrongSetupToken):
        Access.first_administrator("ada.admin", "Ada Admin", PASSWORD, "web form", store,
                                   setup_token=first)
    with pytest.raises(InputInvalid, match="too easy to guess"):  # the token is not used up
        Access.first_administrator("ada.admin", "Ada Admin", "aaaaaaaaaaaa", "web form", store,
                                   setup_token=newest)
    Access.first_administrator("ada.admin", "Ada Admin", PASSWORD, "web form", store,
                               setup_token=newest)
    assert not Access.setup_token_pending(store)


def test_dtpa_setup_token_prints_a_token_only_while_no_account_exists(store, store_url,
                                                                     monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "ops-on-call")
    world = SimpleNamespace(url=store_url)
    made = runner.invoke(app, ["setup-token", "--db", world.url])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("dtpa-setup-") and "valid once, until" in made.stderr
    Access.first_administrator("ada.admin", "Ada Admin", PASSWORD, "web form", store,
                               setup_token=token)
    again = runner.invoke(app, ["setup-token", "--db", world.url])
    assert again.exit_code == 0 and again.stdout == "" and "Accounts exist" in again.stderr


def test_the_guard_rows_hold_no_plain_names(kim):
    for _ in range(2):
        with pytest.raises(AccessDenied):
            kim.authenticate("kim.lee", "not the password", client="web 203.0.113.9")
    with kim.db.read() as session:
        rows = {row.kind: row for row in session.execute(select(SignInGuardRow)).scalars()}
    assert rows["account"].key == guard.account_key("KIM.LEE").digest  # names compare caseless
    assert rows["account"].failures == rows["client"].failures == 2
