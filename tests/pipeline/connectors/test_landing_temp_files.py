"""A run killed mid-write leaves a temp file beside a page or a cursor; the next run removes it
and reads what was saved before (test_connector_crash.py beside this file kills real runs)."""

from lead_parity.pipeline.connectors.landing import PageLander, load_state, save_state, state_path


def test_a_stale_cursor_temp_file_is_removed_and_the_saved_cursor_kept(tmp_path):
    save_state(tmp_path, "tickets", {"cursor": "abc"})
    saved = state_path(tmp_path, "tickets")
    stale = saved.with_name(f".{saved.name}.tmp-4242")
    stale.write_bytes(b'{"cursor": "half')
    other = saved.with_name(".contacts.json.tmp-4242")  # another stream's, maybe in use
    other.write_bytes(b"{")

    assert load_state(tmp_path, "tickets")["cursor"] == "abc"
    assert not stale.exists()
    assert other.exists()


def test_a_stale_page_temp_file_is_removed_when_the_next_run_lands(tmp_path):
    folder = tmp_path / "zendesk_tickets"
    folder.mkdir()
    (folder / ".20261127T000000000000Z-000001.json.tmp-4242").write_bytes(b"{")

    PageLander(folder).land(b"{}")

    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    assert len(list(folder.glob("*.json"))) == 1
