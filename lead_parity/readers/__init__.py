"""Readers of the published snapshot: the Streamlit dashboard and the HTML report."""
