"""Retry settings come from LEAD_PARITY_HTTP_* (connectors) and LEAD_PARITY_SINK_* (incident
sinks) through one loader; a bad value is a clear error naming the variable."""

import pytest

from lead_parity.pipeline.http_client import HttpClientError, HttpSettings
from lead_parity.pipeline.incidents.sinks import DeliverySettings, SinkConfigError


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
    settings = DeliverySettings.from_env(
        {"LEAD_PARITY_SINK_MAX_ATTEMPTS": "2", "LEAD_PARITY_SINK_OUTBOX_RETRY": "5"}
    )
    assert (settings.max_attempts, settings.outbox_retry_s) == (2, 5.0)
    assert settings.read_timeout_s == DeliverySettings().read_timeout_s


@pytest.mark.parametrize(
    ("loader", "variable", "error"),
    [
        (HttpSettings.from_env, "LEAD_PARITY_HTTP_MAX_ATTEMPTS", HttpClientError),
        (DeliverySettings.from_env, "LEAD_PARITY_SINK_BACKOFF_FACTOR", SinkConfigError),
    ],
)
def test_a_value_that_is_not_a_number_names_its_variable(loader, variable, error):
    with pytest.raises(error, match=f"{variable}='six' is not a number"):
        loader({variable: "six"})
