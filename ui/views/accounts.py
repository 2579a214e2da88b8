"""Accounts (administrators): the local user accounts, and adding one."""

import streamlit as st

from engine.errors import DTPAError
from ui.auth import ROLE_CHOICES, current
from ui.common import pretty

who = current()
st.title("Accounts")
st.dataframe([{"Username": u.username, "Name": u.name, "Role": pretty(u.role),
               "Wards": ", ".join(u.wards), "Active": u.active} for u in who.users()],
             hide_index=True, width="stretch")
with st.form("add_user"):
    st.markdown("**Add an account**")
    username = st.text_input("Username", key="new_user")
    name = st.text_input("Full name", key="new_name")
    role = st.selectbox("Role", ROLE_CHOICES, format_func=pretty, key="new_role")
    wards = st.text_input("Wards (clinical staff; separate with commas)", key="new_wards")
    password = st.text_input("Initial password (at least 12 characters)", type="password",
                             key="new_password")
    if st.form_submit_button("Add account"):
        try:
            who.add_user(username.strip(), name, role,
                         [w.strip() for w in wards.split(",") if w.strip()], password)
            st.success(f"Account {username} added.")
        except DTPAError as exc:
            st.error(exc.message)
