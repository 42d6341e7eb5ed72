"""What the pages that act on a history store share: where the store is, and who acts.

The work queue, incidents and remediation pages read and write SQLite stores under
`<data folder>/history/` (beside `published/`), never the snapshot or the warehouse. Each action
is signed with a person's name, asked for the same way on every page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lead_parity.readers.dashboard import published_dir

NAME_NEEDED = "Your name is needed: who takes this action."


def store_path(store_file: str) -> Path:
    """The store `store_file` of the data folder the dashboard was started on."""
    # `published` is a symlink in the data folder; the store sits in that folder's history/.
    return published_dir().absolute().parent / "history" / store_file


def open_page(title: str, store_file: str, missing: str, first_step: str) -> Path | None:
    """Title the page; the store's path, or None after saying what to run when it is missing."""
    st.title(title)
    path = store_path(store_file)
    if not path.is_file():
        st.info(f"{missing} yet at {path}: run {first_step} first.")
        return None
    return path


def sign_and_submit(
    by_key: str, actions: tuple[str, ...], *, side_by_side: bool = False
) -> tuple[str | None, str]:
    """The end of an action form: "Your name", then one submit button per action.

    Returns the action pressed (None when none was, or when it was pressed with no name: that
    says so on the page) and the name, stripped.
    """
    by = st.text_input("Your name", key=by_key).strip()
    places = st.columns(len(actions)) if side_by_side else [st] * len(actions)
    # Every button is drawn, pressed or not: a comprehension, not a short-circuiting any().
    pressed = [
        action
        for place, action in zip(places, actions, strict=True)
        if place.form_submit_button(action)
    ]
    if pressed and not by:
        st.error(NAME_NEEDED)
        return None, by
    return (pressed[0] if pressed else None), by
