"""Signing in. The embedded default uses local accounts (Argon2-hashed passwords in the store);
a trust can use OpenID Connect instead through Streamlit's built-in login (see README). Every
page then acts as the signed-in person through `engine.service.session.Access`, which enforces roles.

A session lasts while the person keeps using it: after DTPA_IDLE_MINUTES (30) without
interaction it is signed out, and every run re-reads the account, so a deactivated account, a
reset password or a changed role applies at once. The first administrator is made by the
operator: from the command line, or here with the one-time setup token `make run` prints; with
no token waiting, no form is offered."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

import streamlit as st

from engine.errors import DTPAError
from engine.models.people import Actor
from engine.models.vocab import Role
from engine.service.display import role_words
from engine.service.session import Access, idle_seconds
from ui.common import pack

FIRST_ADMIN_VIA = "web form"  # recorded in the audit event of the first administrator
WATCH_SECONDS = 60  # how often an open page checks whether its session has gone idle


def now() -> float:
    """The clock the idle timeout reads (tests move it)."""
    return time.time()


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError):  # no secrets.toml: local accounts
        return False


def client() -> str:
    """Who is signing in, for back-off and lockout: the browser's IP address. Streamlit gives
    none for a connection from this machine; then, and only then, a reverse proxy on this
    machine says who it forwards (the last X-Forwarded-For address, or X-Real-IP), since the
    app listens on 127.0.0.1 and only the proxy or a local user can reach it."""
    def address(value: object) -> str | None:
        try:
            return str(ipaddress.ip_address(value.strip())) if isinstance(value, str) else None
        except ValueError:
            return None

    direct = address(st.context.ip_address)
    if direct:
        return f"web {direct}"
    headers = st.context.headers
    forwarded = headers.get("X-Forwarded-For")
    last = forwarded.split(",")[-1] if isinstance(forwarded, str) else None
    for candidate in (last, headers.get("X-Real-Ip")):
        if found := address(candidate):
            return f"web {found}"
    return "web this computer"


def gate(hold: Callable[[], object] | None = None) -> None:
    """Stop the script until someone is signed in (called once, before the pages run). `hold`
    is called first while no one is: the app registers its pages there, hidden, so that the
    address asked for (a bookmark) is still the page shown once the person has signed in."""
    if "actor" in st.session_state and _still_signed_in():
        _idle_watch()
        return
    if hold is not None:
        hold()
    st.title("DTPA: digital technology principles assessment")
    why = st.session_state.pop("signed_out_because", None)
    if why:
        st.info(why)
    if _oidc_configured():
        _oidc()
    elif Access.needs_first_administrator():
        _first_administrator()
    else:
        _local_sign_in()
    st.stop()


def _signed_in(person: Access) -> None:
    st.session_state["actor"] = person.actor
    st.session_state["signed_in_at"] = person.signed_in_at
    st.session_state["last_seen"] = now()


def _sign_out(why: str | None = None) -> None:
    """Forget everything this person opened or typed in this browser session."""
    st.session_state.clear()
    if why:
        st.session_state["signed_out_because"] = why
    if _oidc_configured():
        st.logout()  # else the identity provider's cookie would sign them straight back in


def _still_signed_in() -> bool:
    """Whether the session goes on: not idle too long, and the account still active (its role
    and wards as they are now)."""
    last = st.session_state.get("last_seen")
    moment = now()
    if last is not None and moment - last > idle_seconds():
        _sign_out(f"You were signed out after {idle_seconds() / 60:g} minutes without activity. "
                  "Sign in again to go on.")
        return False
    actor: Actor = st.session_state["actor"]
    try:
        person = Access.resume(actor.username, st.session_state.get("signed_in_at"), pack=pack())
    except DTPAError as exc:
        _sign_out(exc.message)
        return False
    st.session_state["actor"] = person.actor
    st.session_state.setdefault("signed_in_at", person.signed_in_at)
    st.session_state["last_seen"] = moment
    return True


@st.fragment(run_every=WATCH_SECONDS)
def _idle_watch() -> None:
    """Runs on its own every minute while a page is open (not an interaction: it leaves
    `last_seen` alone); once the session is idle too long, it reruns the page, which signs the
    person out and clears the screen."""
    last = st.session_state.get("last_seen")
    if last is not None and now() - last > idle_seconds():
        st.rerun()


def _local_sign_in() -> None:
    st.subheader("Sign in")
    with st.form("sign_in"):
        username = st.text_input("Username", key="login_user", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password",
                                 autocomplete="current-password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                _signed_in(Access.sign_in(username, password, pack=pack(), client=client()))
                st.rerun()
            except DTPAError as exc:
                st.error(exc.message)


def _first_administrator() -> None:
    st.subheader("Create the first administrator")
    if not Access.setup_token_pending():
        st.write("No accounts exist yet, and the first administrator is made by whoever runs "
                 "DTPA on the server. There, either run `dtpa setup-token` (`make run` does this "
                 "when it starts) and enter the one-time token it prints here, or create the "
                 "account directly with `dtpa users add USERNAME --name \"Full Name\" --role "
                 "administrator`. Then reload this page.")
        return
    st.write("No accounts exist yet. Enter the one-time setup token printed in the terminal "
             "where DTPA was started (`make run`, or `dtpa setup-token`). The first account "
             "administers the others; it cannot open patient records.")
    with st.form("first_admin"):
        token = st.text_input("Setup token", type="password", key="first_token",
                              autocomplete="off")
        username = st.text_input("Username", key="first_user")
        name = st.text_input("Full name", key="first_name")
        password = st.text_input("Password (at least 12 characters, hard to guess)",
                                 type="password", key="first_password",
                                 autocomplete="new-password")
        again = st.text_input("Password again", type="password", key="first_again",
                              autocomplete="new-password")
        if st.form_submit_button("Create and sign in", type="primary"):
            if password != again:
                st.error("The two passwords differ.")
                return
            try:
                _signed_in(Access.first_administrator(username, name, password, FIRST_ADMIN_VIA,
                                                      pack=pack(), setup_token=token,
                                                      client=client()))
                st.rerun()
            except DTPAError as exc:
                st.error(exc.message)


def _oidc() -> None:
    user = st.user
    if not user.is_logged_in:
        st.write("Sign in with your organisation's account.")
        if st.button("Sign in", type="primary", key="oidc_login"):
            st.login()
        return
    try:
        _signed_in(Access.for_account(str(user.get("iss") or ""), str(user.get("sub") or ""),
                                      pack=pack()))
    except DTPAError as exc:
        st.error(exc.message)
        if st.button("Sign out of the organisation account", key="oidc_logout"):
            st.logout()
        return
    st.rerun()


def access() -> Access:
    """The signed-in person, acting through the engine's access checks (nothing shown)."""
    actor: Actor = st.session_state["actor"]
    return Access(actor, pack=pack(), signed_in_at=st.session_state.get("signed_in_at"))


def current() -> Access:
    """The signed-in person, acting through the engine's access checks; shown in the sidebar
    with their role in words and their wards (names typed by an administrator: plain text)."""
    actor: Actor = st.session_state["actor"]
    with st.sidebar:
        st.markdown(f"**{plain(actor.name)}**  \n{role_words(actor.role)}"
                    + (f"  \n{plain(', '.join(actor.wards))}" if actor.wards else ""))
        if st.button("Sign out", key="sign_out"):
            _sign_out()
            st.rerun()
    return access()


def plain(text: str) -> str:
    """Text shown as markdown, its markdown and HTML characters escaped."""
    for ch in "\\`*_{}[]()#+-.!|<>$~":
        text = text.replace(ch, "\\" + ch)
    return text


ROLE_CHOICES = [r.value for r in Role]
