"""Signing in. The embedded default uses local accounts (Argon2-hashed passwords in the store);
a trust can use OpenID Connect instead through Streamlit's built-in login (see README). Every
page then acts as the signed-in person through `engine.service.session.Access`, which enforces roles."""

from __future__ import annotations

import streamlit as st

from engine.errors import DTPAError
from engine.models.people import Actor
from engine.models.vocab import Role
from engine.service.session import Access
from ui.common import pack, pretty, store

FIRST_ADMIN_VIA = "web form"  # recorded in the audit event of the first administrator


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError):  # no secrets.toml: local accounts
        return False


def gate() -> None:
    """Stop the script until someone is signed in (called once, before the pages run)."""
    if "actor" in st.session_state:
        return
    st.title("DTPA: digital technology principles assessment")
    if _oidc_configured():
        _oidc()
    elif Access.needs_first_administrator(store()):
        _first_administrator()
    else:
        _local_sign_in()
    st.stop()


def _local_sign_in() -> None:
    st.subheader("Sign in")
    with st.form("sign_in"):
        username = st.text_input("Username", key="login_user", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password",
                                 autocomplete="current-password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                st.session_state["actor"] = Access.sign_in(username, password, store()).actor
                st.rerun()
            except DTPAError as exc:
                st.error(exc.message)


def _first_administrator() -> None:
    st.subheader("Create the first administrator")
    st.write("No accounts exist yet. The first account administers the others; it cannot open "
             "patient records.")
    with st.form("first_admin"):
        username = st.text_input("Username", key="first_user")
        name = st.text_input("Full name", key="first_name")
        password = st.text_input("Password (at least 12 characters)", type="password",
                                 key="first_password")
        again = st.text_input("Password again", type="password", key="first_again")
        if st.form_submit_button("Create and sign in", type="primary"):
            if password != again:
                st.error("The two passwords differ.")
                return
            try:
                st.session_state["actor"] = Access.first_administrator(
                    username, name, password, via=FIRST_ADMIN_VIA, store=store()).actor
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
    email = str(user.get("email") or "")
    try:
        st.session_state["actor"] = Access.for_account(email, store()).actor
    except DTPAError as exc:
        st.error(exc.message)
        return
    st.rerun()


def current() -> Access:
    """The signed-in person, acting through the engine's access checks; shown in the sidebar."""
    actor: Actor = st.session_state["actor"]
    with st.sidebar:
        st.markdown(f"**{actor.name}**  \n{pretty(actor.role.value)}"
                    + (f"  \n{', '.join(actor.wards)}" if actor.wards else ""))
        if st.button("Sign out", key="sign_out"):
            st.session_state.clear()  # what this person opened or typed leaves with them
            if _oidc_configured():
                st.logout()
            st.rerun()
    return Access(actor, store(), pack())


ROLE_CHOICES = [r.value for r in Role]
