"""The pages of the web app; Streamlit runs each file as a script (see ui/app.py)."""
