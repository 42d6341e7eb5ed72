"""One HTTP settings type for every caller: connectors read LEAD_PARITY_HTTP_*, incident sinks
LEAD_PARITY_SINK_* over their own defaults, both through one loader, from the mapping the entry
point passes; a bad value is a clear error naming the variable."""

import pytest

from lead_parity.pipeline.http_client import HttpClientError, HttpSettings
from lead_parity.pipeline.incidents.sinks import SINK_SETTINGS, SinkConfigError, sink_settings


def test_http_settings_read_their_prefix_only():
    settings = HttpSettings.from_env(
        {
            "LEAD_PARITY_HTTP_MAX_ATTEMPTS": "9",
            "LEAD_PARITY_HTTP_READ_TIMEOUT": " 2.5 ",
            "LEAD_PARITY_HTTP_CONNECT_TIMEOUT": "",
            "LEAD_PARITY_SINK_MAX_ATTEMPTS": "2",
        }
    )
    assert (settings.max_attempts, settings.read_timeout_s) == (9, 2.5)
    assert settings.connect_timeout_s == HttpSettings().connect_timeout_s


def test_sink_settings_read_their_prefix_and_the_outbox_retry():
    settings = sink_settings(
        {
            "LEAD_PARITY_SINK_MAX_ATTEMPTS": "2",
            "LEAD_PARITY_SINK_OUTBOX_RETRY": "5",
            "LEAD_PARITY_HTTP_READ_TIMEOUT": "99",
        }
    )
    assert isinstance(settings, HttpSettings)
    assert (settings.max_attempts, settings.outbox_retry_s) == (2, 5.0)
    assert settings.read_timeout_s == SINK_SETTINGS.read_timeout_s


def test_the_sinks_keep_their_own_defaults():
    # The documented defaults (docs/incidents.md): shorter than a connector's.
    assert sink_settings({}) == SINK_SETTINGS
    s = SINK_SETTINGS
    assert (s.connect_timeout_s, s.read_timeout_s, s.max_attempts) == (5.0, 15.0, 5)
    assert (s.backoff_factor_s, s.backoff_max_s, s.retry_after_max_s) == (1.0, 30.0, 120)
    assert s.outbox_retry_s == 60.0
    assert s.lease_s() == 5 * (5.0 + 15.0) + 5 * 120 + 60


@pytest.mark.parametrize(
    ("loader", "variable", "error"),
    [
        (HttpSettings.from_env, "LEAD_PARITY_HTTP_MAX_ATTEMPTS", HttpClientError),
        (sink_settings, "LEAD_PARITY_SINK_BACKOFF_FACTOR", SinkConfigError),
    ],
)
def test_a_value_that_is_not_a_number_names_its_variable(loader, variable, error):
    with pytest.raises(error, match=f"{variable}='six' is not a number"):
        loader({variable: "six"})
