"""Free text typed outside an assessment follows the assessment's rule (engine/models/printable.py):
no control characters, no bidirectional overrides or isolates, no invisible formatting characters;
line breaks and tabs only where the field is multi-line (a reason, a comment). Each entry point
through which a person's text reaches the store is tried through the service API: the refusal is
InputInvalid, one line naming the field, and nothing stored changes. Text stored before the rule
stays readable and usable. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.errors import InputInvalid
from engine.models.people import Actor, RoleRules
from engine.models.printable import check_text, check_texts
from engine.service import accounts
from engine.service.session import Access
from engine.store import Store
from engine.store.bootstrap import add_first_administrator, issue_setup_token
from tests.conftest import ALL_ATTESTATIONS, PASSWORD, cli_token, load_case

runner = CliRunner()
ISSUER = "https://login.example.nhs.uk"
REASON = "Independent evidence arrived after the assessment was made"
BEL_REASON = "Independent\x07 evidence arrived after the assessment was made"  # BEL: character 12
MULTI = "only printable text, line breaks and tabs are accepted"
ONE = "only one line of printable text is accepted"
TABLES = ("records", "signoffs", "overrides", "audit_events", "users", "tokens", "drafts",
          "setup_tokens")


def snapshot(store) -> dict[str, list[tuple]]:
    """Every row DTPA keeps about records, people and their work: equal before and after a
    refusal means nothing was stored, changed or audited."""
    with store.db.read() as session:
        return {t: sorted(tuple(map(str, row)) for row in session.execute(text(f"SELECT * FROM {t}")))
                for t in TABLES}


@pytest.fixture
def world(store):
    """An administrator (signed in), a clinician's account, a product decision and a panel chair."""
    add_first_administrator(store, "ada.admin", "Ada Admin", PASSWORD, {"via": "test"})
    admin = Access.sign_in("ada.admin", PASSWORD, store)
    admin.add_user("kim.lee", "Kim Lee", "clinician", ["Willow Ward"], PASSWORD)
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    chair = Access(Actor(username="sam.chair", name="Sam Chair", role="panel_chair"), store)
    return dataclasses.make_dataclass("World", ["store", "admin", "chair", "product"])(
        store, admin, chair, product.row.id)


# --- each entry point, through the service API ---------------------------------------------------

ENTRY_POINTS = {
    "override reason": (
        lambda w: w.chair.override(w.product, "P7", "met", BEL_REASON),
        f"Override reason: contains a control character (U+0007) at character 12; {MULTI}"),
    "override reason, at the store": (  # RoleRules.check_reason: whoever calls the store
        lambda w: w.store.override(w.product, "P7", "met", "Sam Chair", "panel_chair", BEL_REASON),
        f"Override reason: contains a control character (U+0007) at character 12; {MULTI}"),
    "sign-off comment": (
        lambda w: w.chair.sign(w.product, ALL_ATTESTATIONS, "Fine\x1b]0;pwned\x07"),
        f"Sign-off comment: contains a control character (U+001B) at character 5; {MULTI}"),
    "sign-off comment, hidden text": (
        lambda w: w.chair.sign(w.product, ALL_ATTESTATIONS, "Fine\U000e0069\U000e0067"),
        f"Sign-off comment: contains an invisible formatting character (U+E0069) at character 5; "
        f"{MULTI}"),
    "draft name": (
        lambda w: w.chair.save_draft("Night\u202euse", "procurement", {}),
        f"Draft name: contains a bidirectional formatting character (U+202E) at character 6; {ONE}"),
    "draft answer": (
        lambda w: w.chair.save_draft("Night use", "procurement",
                                     {"title": "Monitor", "technology": {"name": "Cam\x1b[31m"}}),
        f"Draft answer technology.name: contains a control character (U+001B) at character 4; "
        f"{MULTI}"),
    "draft answer in a list": (
        lambda w: w.chair.save_draft("Night use", "procurement",
                                     {"service": {"wards": ["Willow", "Ash\x00"]}}),
        f"Draft answer service.wards.1: contains a NUL character (U+0000) at character 4; {MULTI}"),
    "draft key": (
        lambda w: w.chair.save_draft("Night use", "procurement", {"technology": {"na\x07me": "x"}}),
        f"Draft answer key in technology: contains a control character (U+0007) at character 3; "
        f"{ONE}"),
    "full name": (
        lambda w: w.admin.add_user("jo.bloggs", "Jo\u200bBloggs", "dpo", [], PASSWORD),
        f"Full name: contains an invisible formatting character (U+200B) at character 3; {ONE}"),
    "username": (
        lambda w: w.admin.add_user("jo\x00", "Jo Bloggs", "dpo", [], PASSWORD),
        f"Username: contains a NUL character (U+0000) at character 3; {ONE}"),
    "ward of a new account": (
        lambda w: w.admin.add_user("jo.bloggs", "Jo Bloggs", "clinician",
                                   ["Willow Ward", "Heron\nWard"], PASSWORD),
        f"Ward 2: contains a line break (U+000A) at character 6; {ONE}"),
    "wards of an account": (
        lambda w: w.admin.set_wards("kim.lee", ["Willow\tWard"]),
        f"Ward: contains a tab (U+0009) at character 7; {ONE}"),
    "ward, a line separator": (
        lambda w: w.admin.set_wards("kim.lee", ["Willow", "Heron\u2028Ward"]),
        f"Ward 2: contains a line break (U+2028) at character 6; {ONE}"),
    "identity issuer": (
        lambda w: w.admin.link_identity("kim.lee", ISSUER + "\u2066", "0f3c-77aa"),
        f"Issuer: contains a bidirectional formatting character (U+2066) at character 29; {ONE}"),
    "identity subject": (
        lambda w: w.admin.link_identity("kim.lee", ISSUER, "0f3c\x7f"),
        f"Subject: contains a control character (U+007F) at character 5; {ONE}"),
    "token name": (
        lambda w: accounts.create_token(w.admin, "nightly\x1b[2J", "read", 24),
        f"Token name: contains a control character (U+001B) at character 8; {ONE}"),
    "idempotency key": (
        lambda w: w.chair.save(load_case("feedback-kiosk.yaml"), idempotency_key="run-1\x85"),
        f"Idempotency key: contains a control character (U+0085) at character 6; {ONE}"),
    "bundle title": (
        lambda w: w.chair.bundle("Panel pack\ufeff"),
        f"Bundle title: contains an invisible formatting character (U+FEFF) at character 11; {ONE}"),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_each_entry_point_refuses_unprintable_text_in_one_line_and_stores_nothing(world, entry):
    attempt, says = ENTRY_POINTS[entry]
    before = snapshot(world.store)
    with pytest.raises(InputInvalid) as err:
        attempt(world)
    assert str(err.value) == says
    assert "\n" not in str(err.value)
    assert snapshot(world.store) == before


def test_the_first_administrator_is_checked_from_the_command_line_and_the_web(store):
    before = snapshot(store)
    with pytest.raises(InputInvalid, match=r"^Full name: contains a bidirectional formatting "
                                           r"character \(U\+202E\) at character 4; only one line"):
        accounts.first_administrator(store, "ada.admin", "Ada\u202enimdA", PASSWORD, "operator")
    assert snapshot(store) == before
    token, _ = issue_setup_token(store, "operator")
    before = snapshot(store)
    with pytest.raises(InputInvalid, match=r"^Username: contains a control character \(U\+001B\) "
                                           r"at character 4"):
        Access.first_administrator("ada\x1b.admin", "Ada Admin", PASSWORD, "web", store,
                                   setup_token=token)
    assert snapshot(store) == before  # the setup token is not used up
    Access.first_administrator(" ada.admin ", "Ada Admin", PASSWORD, "web", store,
                               setup_token=token)  # spaces round a username are still trimmed
    assert [u.username for u in store.users()] == ["ada.admin"]


@pytest.fixture
def strict(store):
    """A trust whose profile asks a second administrator to approve patient access."""
    rules = dataclasses.replace(store.role_rules, second_approval_for_patient_access=True)
    return Store(store.db, required_roles=store._required, role_rules=rules)


def test_a_refused_grants_reason_is_checked_and_the_grant_stays_pending(strict):
    add_first_administrator(strict, "alex.admin", "Alex Admin", PASSWORD, {"via": "test"})
    first = Access.sign_in("alex.admin", PASSWORD, strict)
    first.add_user("bo.admin", "Bo Admin", "administrator", [], PASSWORD)
    second = Access.sign_in("bo.admin", PASSWORD, strict)
    grant = first.add_user("sam.dpo", "Sam Patel", "dpo", [], PASSWORD)
    assert grant is not None
    before = snapshot(strict)
    with pytest.raises(InputInvalid) as err:
        second.refuse_grant(grant.id, "not agreed\x00 with the DPO")
    assert str(err.value) == (f"Reason for refusing: contains a NUL character (U+0000) at "
                              f"character 11; {MULTI}")
    assert snapshot(strict) == before and [g.id for g in second.pending_grants()] == [grant.id]
    second.refuse_grant(grant.id, "not agreed with the DPO:\r\n\tsee the minutes")
    assert second.pending_grants() == []


# --- what is still accepted -------------------------------------------------------------------------

def test_multi_line_fields_keep_line_breaks_and_tabs_one_kind_of_line_break(world):
    reason = "Independent evidence arrived\r\nafter the assessment:\r\tthe vendor's audit."
    view = world.chair.override(world.product, "P7", "met", reason)
    assert view.overrides[-1].reason == ("Independent evidence arrived\nafter the assessment:\n"
                                         "\tthe vendor's audit.")
    view = world.chair.sign(world.product, ALL_ATTESTATIONS, "Agreed at panel.\r\n\tSee minutes.")
    assert view.signoffs[-1].comment == "Agreed at panel.\n\tSee minutes."


@pytest.mark.parametrize("name", [
    "Zoë Łukasz-O'Brien", "Nguyễn Thị Minh", "José\u0301 Álvarez",  # accents, combining marks
    "محمد\u200fعلي",  # a right-to-left mark (implicit, moves nothing beyond its neighbours)
    "क्\u200dष Sharma", "فرهاد\u200cزاده",  # joiner and non-joiner: needed to write these scripts
    "Dr Kim 👩\u200d⚕\ufe0f", "Ana ❤\ufe0f",  # emoji sequences: joiner, variation selector
])
def test_names_in_any_script_and_emoji_are_accepted(world, name):
    world.admin.add_user("jo.bloggs", name, "dpo", [], PASSWORD)
    assert next(u.name for u in world.store.users() if u.username == "jo.bloggs") == name


def test_wards_are_checked_as_typed_and_trimmed_as_before(world):
    assert world.admin.set_wards("kim.lee", ["Willow Ward", " Heron Ward ", ""]) == ["Willow Ward"]
    assert next(u.wards for u in world.store.users() if u.username == "kim.lee") == [
        "Willow Ward", "Heron Ward"]


@pytest.mark.parametrize("char, says", [
    ("\x00", "a NUL character (U+0000)"), ("\x1b", "a control character (U+001B)"),
    ("\x7f", "a control character (U+007F)"), ("\x9b", "a control character (U+009B)"),
    ("\x0b", "a control character (U+000B)"), ("\x0c", "a control character (U+000C)"),
    ("\ud800", "a lone surrogate (U+D800)"),
    *[(chr(c), f"a bidirectional formatting character (U+{c:04X})")
      for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]],
    *[(chr(c), f"an invisible formatting character (U+{c:04X})")
      for c in (0x200B, 0x2060, 0x2064, 0x206F, 0xFEFF, 0x180E, 0xFFF9, 0xE0001, 0xE0041, 0xE007F)],
])
def test_what_is_refused_in_every_field(char, says):
    for multi_line in (False, True):
        with pytest.raises(InputInvalid) as err:
            check_text(f"ab{char}c", "Field", multi_line=multi_line)
        assert str(err.value).startswith(f"Field: contains {says} at character 3; ")


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\u2028", "\u2029"])
def test_line_breaks_and_tabs_only_in_multi_line_fields(char):
    assert check_text(f"a{char}b", "Comment", multi_line=True) == (
        "a\nb" if char == "\r" else f"a{char}b")
    with pytest.raises(InputInvalid, match=r"^Name: contains a (line break|tab) \(U\+"):
        check_text(f"a{char}b", "Name")


def test_only_text_is_text():
    with pytest.raises(InputInvalid, match="^Token name: expected text, not bytes$"):
        check_text(b"nightly", "Token name")  # type: ignore[arg-type]
    check_texts({"a": [1, 2.5, None, True, {"b": "fine\n\tlines"}]}, "Draft answer")


def test_the_role_rules_check_the_reason_before_counting_its_words():
    with pytest.raises(InputInvalid, match=r"^Override reason: contains a control character "
                                           r"\(U\+0007\) at character 12"):
        RoleRules().check_reason(BEL_REASON)
    assert RoleRules().check_reason(f"  {REASON}\r\n") == REASON


# --- the same rule in an assessment's answers ------------------------------------------------------

def test_an_assessment_answer_refuses_a_bidi_override_and_a_stored_one_stays_readable():
    data = load_case("feedback-kiosk.yaml").model_dump(mode="json", exclude_none=True)
    data["title"] = "Kiosk \u202eksoik"
    with pytest.raises(InputInvalid) as err:
        service.validate_assessment(data)
    assert [p.message for p in err.value.problems] == [
        "title: Value error, contains a bidirectional formatting character (U+202E) at character "
        "7; this answer is one line of printable text"]
    from engine.service.deciding import validate_stored

    stored, stricter = validate_stored(data)  # stored before the rule: read, and flagged
    assert stored.title == "Kiosk \u202eksoik" and stricter == [err.value.problems[0].message]


# --- text stored before the rule ----------------------------------------------------------------------

def test_text_stored_before_the_rule_is_still_read_and_its_account_still_acts(world):
    store, chair = world.store, world.chair
    # Stored as they would have been before the rule (the store itself takes them as given)
    store.add_user("old.timer", "Old\x07 Timer", "panel_chair", ["Ward\u202e"], PASSWORD,
                   by=("Ada Admin", "administrator"))
    store.sign(world.product, "Dr Old Hand", "dpo", ALL_ATTESTATIONS, "kept\x1b as stored")
    store.save_draft("Old\x07 draft", "procurement", {"title": "Kiosk\x1b"}, "sam.chair")

    old = Access.sign_in("old.timer", PASSWORD, store)
    assert old.actor.name == "Old\x07 Timer" and old.actor.wards == ["Ward\u202e"]
    signed = old.sign(world.product, ALL_ATTESTATIONS)  # an old name still signs
    assert [s.comment for s in signed.signoffs] == ["kept\x1b as stored", None]
    assert "old.timer" in [u.username for u in world.admin.users()]
    assert chair.draft("Old\x07 draft", "procurement").data == {"title": "Kiosk\x1b"}
    assert "Old\x07 draft" in [d.name for d in chair.drafts()]
    assert store.verify().ok


# --- from the command line: one line, exit code 1 (README, "Exit codes") --------------------------------

def test_the_command_line_shows_the_one_line_error_with_exit_code_1(store, store_url):
    product = service.save_assessment(load_case("vbm-individual-decision.yaml"), "Dr Ada Obi",
                                      "panel_chair", store)
    token = cli_token(store, "panel_chair")
    before = snapshot(store)
    result = runner.invoke(app, ["override", product.row.id, "--target", "P7", "--to", "met",
                                 "--reason", BEL_REASON, "--db", store_url],
                           env={"DTPA_TOKEN": token})
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == (
        "Error: Override reason: contains a control character (U+0007) at character 12; "
        f"{MULTI}")
    assert "Traceback" not in result.output and "\x07" not in result.stderr
    assert snapshot(store) == before

    result = runner.invoke(app, ["token", "create", "--name", "nightly\u202e", "--db", store_url],
                           env={"DTPA_TOKEN": token})
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == (
        "Error: Token name: contains a bidirectional formatting character (U+202E) at character "
        f"8; {ONE}")
    assert snapshot(store) == before
