"""Accounts (administrators): the local user accounts, adding one, and changing one: deactivate
or reactivate it, its role, its wards, a new password, the identity-provider account linked to
it. Every change is an audit event naming the administrator."""

import streamlit as st

from engine.errors import DTPAError
from engine.service.display import role_words
from ui.auth import ROLE_CHOICES, current, plain

who = current()
st.title("Accounts")
done = st.session_state.pop("adm_done", None)
if done:
    st.success(done)
users = who.users()
st.dataframe([{"Username": u.username, "Name": u.name, "Role": role_words(u.role),
               "Wards": ", ".join(u.wards), "Active": u.active,
               "Organisation sign-in": "linked" if u.oidc_subject else ""} for u in users],
             hide_index=True, width="stretch")


def _wards(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


def _unless_pending(username: str, message: str) -> str:
    """The message, or what waits for a second administrator (the profile's
    second_approval_for_patient_access) when the change was only asked for."""
    grant = who.pending_grant(username)
    return f"{username}: nothing changes until another administrator approves {grant}." \
        if grant else message


def _changed(message: str) -> None:
    st.session_state["adm_done"] = message
    st.rerun()


with st.form("add_user"):
    st.markdown("**Add an account**")
    username = st.text_input("Username", key="new_user")
    name = st.text_input("Full name", key="new_name")
    role = st.selectbox("Role", ROLE_CHOICES, format_func=role_words, key="new_role")
    wards = st.text_input("Wards (clinical staff; separate with commas)", key="new_wards")
    password = st.text_input("Initial password (at least 12 characters, hard to guess)",
                             type="password", key="new_password", autocomplete="new-password")
    if st.form_submit_button("Add account"):
        try:
            grant = who.add_user(username.strip(), name, role, _wards(wards), password)
            st.success(f"Account {username} added" + (f", inactive until another administrator "
                                                      f"approves {grant}." if grant else "."))
        except DTPAError as exc:
            st.error(exc.message)

grants = who.pending_grants()
if grants:  # a second administrator's approval of access to patient records
    st.subheader("Waiting for a second administrator")
    st.caption("Access to patients' records that another administrator asked for. You may approve "
               "it only if you did not ask for it and it is not your own account.")
    for grant in grants:
        st.text(f"- {grant}")  # names and wards: never markdown
        approve, refuse = st.columns(2)
        try:
            if approve.button("Approve", key=f"grant_ok_{grant.id}"):
                who.approve_grant(grant.id)
                _changed(f"Approved grant {grant.id}: {grant.username} gets {grant.what}.")
            if refuse.button("Refuse", key=f"grant_no_{grant.id}"):
                who.refuse_grant(grant.id)
                _changed(f"Refused grant {grant.id} for {grant.username}: nothing changed.")
        except DTPAError as exc:
            st.error(exc.message)

st.subheader("Change an account")
st.caption("Each change is recorded in the audit trail under your name. A role or ward change "
           "applies from the person's next action; deactivating an account or resetting its "
           "password ends its sessions and revokes its tokens at once.")
chosen_name = st.selectbox("Account", [u.username for u in users], key="adm_user")
chosen = next((u for u in users if u.username == chosen_name), None)
if chosen is not None:
    try:
        if chosen.active:
            st.write(f"**{plain(chosen.name)}** ({role_words(chosen.role)}) is active.")
            if st.button("Deactivate", key="adm_deactivate"):
                who.deactivate(chosen.username)
                _changed(f"{chosen.username} deactivated: their sessions ended and their tokens "
                         "were revoked.")
        else:
            st.write(f"**{plain(chosen.name)}** ({role_words(chosen.role)}) is deactivated.")
            if st.button("Reactivate", key="adm_reactivate"):
                who.reactivate(chosen.username)
                _changed(_unless_pending(chosen.username,
                                         f"{chosen.username} reactivated: they sign in again."))
    except DTPAError as exc:
        st.error(exc.message)

    with st.form("adm_role_form"):
        new_role = st.selectbox("Role", ROLE_CHOICES, format_func=role_words, key="adm_role",
                                index=ROLE_CHOICES.index(chosen.role)
                                if chosen.role in ROLE_CHOICES else 0)
        if st.form_submit_button("Change role"):
            try:
                old = who.change_role(chosen.username, new_role)
                _changed(_unless_pending(chosen.username, f"{chosen.username}: role changed from "
                                                          f"{role_words(old)} to {role_words(new_role)}."))
            except DTPAError as exc:
                st.error(exc.message)

    with st.form("adm_wards_form"):
        new_wards = st.text_input("Wards (separate with commas; empty for none)",
                                  value=", ".join(chosen.wards), key="adm_wards")
        if st.form_submit_button("Set wards"):
            try:
                who.set_wards(chosen.username, _wards(new_wards))
                _changed(_unless_pending(chosen.username, f"{chosen.username}: wards set to "
                                                          f"{new_wards.strip() or 'none'}."))
            except DTPAError as exc:
                st.error(exc.message)

    with st.form("adm_password_form"):
        new_password = st.text_input("New password (at least 12 characters, hard to guess)",
                                     type="password", key="adm_password",
                                     autocomplete="new-password")
        again = st.text_input("New password again", type="password", key="adm_password_again",
                              autocomplete="new-password")
        if st.form_submit_button("Reset password"):
            if new_password != again:
                st.error("The two passwords differ.")
            else:
                try:
                    who.reset_password(chosen.username, new_password)
                    _changed(f"{chosen.username}: password reset; their sessions ended and "
                             "their tokens were revoked. Give them the new password in person.")
                except DTPAError as exc:
                    st.error(exc.message)

    with st.form("adm_oidc_form"):
        st.markdown("**Organisation sign-in (OpenID Connect)**: the identity provider's issuer "
                    "and the person's subject there, as the ID token gives them (DTPA shows "
                    "both to someone whose account is not linked yet). Never matched on e-mail.")
        issuer = st.text_input("Issuer (iss)", value=chosen.oidc_issuer or "", key="adm_iss")
        subject = st.text_input("Subject (sub)", value=chosen.oidc_subject or "", key="adm_sub")
        if st.form_submit_button("Link, or unlink with both empty"):
            try:
                who.link_identity(chosen.username, issuer, subject)
                _changed(f"{chosen.username}: " + (f"linked to {subject.strip()}." if
                                                   subject.strip() else "unlinked."))
            except DTPAError as exc:
                st.error(exc.message)
