"""Function settings: validated once, every problem named; each class matches template.yaml."""
from __future__ import annotations

from dataclasses import fields

import pytest

from local_stack.template import load_template
from switchboard.settings import (
    FUNCTION_SETTINGS,
    NotifierSettings,
    SenderSettings,
    SettingsError,
    WorkflowSettings,
    is_required,
    load_settings,
    variable_of,
)
from tests.support.settings import all_settings, complete_environment, function_environments, settings_for

# Variables the template sets for the Lambda runtime and Powertools, not for switchboard's settings.
RUNTIME_VARIABLES = {"LOG_LEVEL", "POWERTOOLS_LOGGER_LOG_EVENT", "POWERTOOLS_METRICS_NAMESPACE",
                     "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_TRACE_DISABLED"}


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def test_every_function_of_the_template_has_a_settings_class(template: dict) -> None:
    environments = function_environments(template)
    assert environments
    assert sorted(environments) == sorted(cls.function for cls in FUNCTION_SETTINGS)


@pytest.mark.parametrize("cls", FUNCTION_SETTINGS, ids=lambda cls: cls.__name__)
def test_every_required_variable_is_in_the_functions_template_environment(cls: type, template: dict) -> None:
    environment = function_environments(template)[cls.function]
    required = [variable_of(f) for f in fields(cls) if is_required(f)]
    assert required
    assert [name for name in required if name not in environment] == []


@pytest.mark.parametrize("cls", FUNCTION_SETTINGS, ids=lambda cls: cls.__name__)
def test_the_template_environment_loads_into_each_functions_settings(cls: type, template: dict) -> None:
    loaded = settings_for(cls, template)
    environment = function_environments(template)[cls.function]
    read = [f for f in fields(cls) if variable_of(f) in environment]
    assert read
    for item in read:
        assert getattr(loaded, item.name) not in (None, ""), variable_of(item)


def test_every_switchboard_variable_of_the_template_is_read_by_some_function(template: dict) -> None:
    read = {variable_of(f) for cls in FUNCTION_SETTINGS for f in fields(cls)}
    given = set(complete_environment(template)) - RUNTIME_VARIABLES
    assert given
    assert sorted(given - read) == []


def test_all_problems_are_named_at_once_with_the_function() -> None:
    environment = {"MESSAGES_TABLE": "messages", "CONTACTS_TABLE": "", "SENDER_CONCURRENCY": "ten",
                   "PROVIDER_READ_TIMEOUT": "soon"}
    with pytest.raises(SettingsError) as raised:
        load_settings(SenderSettings, environment)
    assert str(raised.value) == (
        "SenderFunction: missing CONTACTS_TABLE, OUTBOUND_QUEUE_URL, NOTIFY_QUEUE_URL, NOTIFY_DLQ_URL, "
        "WORKFLOW_EVENTS_QUEUE_URL, CHANNELS_SECRET_ID; SENDER_CONCURRENCY='ten' is not an integer; "
        "PROVIDER_READ_TIMEOUT='soon' is not a number"
    )


def test_optional_variables_keep_their_defaults_and_lists_are_split() -> None:
    loaded = load_settings(NotifierSettings, {
        "MESSAGES_TABLE": "m", "WORKFLOWS_TABLE": "w", "ACCOUNTS_TABLE": "a", "OUTBOUND_QUEUE_URL": "o",
        "NOTIFY_QUEUE_URL": "n",
        "NOTIFY_DLQ_URL": "d", "ALLOWED_PRIVATE_WEBHOOK_HOSTS": "sink:8080, ,localhost",
    })
    assert loaded.allowed_private_webhook_hosts == ("sink:8080", "localhost")
    assert loaded.retention_days == 90
    assert loaded.retention_seconds == 90 * 86400


def test_settings_are_read_from_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"MESSAGES_TABLE": "m", "WORKFLOWS_TABLE": "w", "OUTBOUND_QUEUE_URL": "o",
                        "NOTIFY_QUEUE_URL": "n", "NOTIFY_DLQ_URL": "d", "WORKFLOW_EVENTS_QUEUE_URL": "e",
                        "RETENTION_DAYS": "7"}.items():
        monkeypatch.setenv(name, value)
    loaded = load_settings(WorkflowSettings)
    assert (loaded.workflows_table, loaded.retention_days) == ("w", 7)


def test_the_shared_fixture_gives_every_function_complete_settings(template: dict) -> None:
    loaded = all_settings(template)
    assert sorted(loaded) == sorted(cls.function for cls in FUNCTION_SETTINGS)
    assert loaded["SenderFunction"].outbound_queue_url
