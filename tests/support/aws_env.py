"""moto in this process with every table, queue and secret of ``template.yaml``, for the tests and the bench.

``template_aws()`` is one moto environment for as long as its block runs (the bench). ``SessionAws``
creates the resources once per test process (each pytest-xdist worker) and lends them to one test at
a time: moto is active only while a test that asked for it runs, exactly as with a ``mock_aws()``
per test, and between two such tests the resources wait outside moto's registry, so tests that
start their own moto (or an in-process moto server) still find it empty. After every test the
resources go back to how the template made them: items, messages and extra resources removed, the
secrets restored. Creating them costs about 0.1 s on an idle machine and several times that on a
busy one; lending them costs a few milliseconds.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_stack.template import LOCAL_REGION, LocalResources, create_resources, load_template
from tests.support.settings import complete_environment


@dataclass
class AwsEnv:
    """The template, the resources created from it, and the environment every function gets."""

    template: dict[str, Any]
    local: LocalResources
    env: dict[str, str]  # the union of every function's environment (``tests.support.settings``)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        """A client of the in-process AWS, made once per service (making one is the slow part of a test)."""
        if service not in self._clients:
            self._clients[service] = boto3.session.Session().client(service, region_name=LOCAL_REGION)
        return self._clients[service]


@contextmanager
def template_aws(parameter_overrides: Mapping[str, str] | None = None) -> Iterator[AwsEnv]:
    """``mock_aws`` with the template's resources for the length of the block."""
    from moto import mock_aws

    with mock_aws():
        yield _create(parameter_overrides)


def _create(parameter_overrides: Mapping[str, str] | None = None) -> AwsEnv:
    template = load_template()
    local = create_resources(template, boto3.session.Session(), dict(parameter_overrides or {}))
    return AwsEnv(template=template, local=local, env=complete_environment(template, local))


class SessionAws:
    """The template's resources, created once and lent to one test at a time (see the module docstring)."""

    def __init__(self) -> None:
        self._env: AwsEnv | None = None
        self._stash: dict[Any, Any] = {}  # moto BackendDict -> this account's backends, while no test holds them
        self._tables: frozenset[str] = frozenset()
        self._queues: frozenset[str] = frozenset()
        self._secrets: dict[str, Any] = {}  # name -> the secret as created

    @contextmanager
    def lent(self) -> Iterator[AwsEnv]:
        from moto import mock_aws

        with mock_aws():
            if self._env is None:
                self._env = _create()
                self._remember_created()
            else:
                for backends, account in self._stash.items():
                    backends[_account()] = account
            intact = False
            try:
                yield self._env
            finally:
                try:
                    intact = self._restore()
                finally:
                    if intact:  # out of moto's registry before the mock ends (it clears what is there)
                        self._stash = {backends: backends.pop(_account()) for backends in _backend_dicts()}
                    else:  # a test removed a resource of the template: the next test gets new ones
                        self._env, self._stash = None, {}

    def _remember_created(self) -> None:
        dynamodb, sqs, secrets = _region_backends()
        self._tables = frozenset(dynamodb.tables)
        self._queues = frozenset(sqs.queues)
        self._secrets = {name: copy.deepcopy(secret) for name, secret in dict.items(secrets.secrets)}

    def _restore(self) -> bool:
        """Everything back as created; False if a resource of the template is gone."""
        for backends in _backend_dicts():  # what a test did in another region goes
            account = backends[_account()]
            for region in [r for r in account if r != LOCAL_REGION]:
                dict.pop(account, region)
        dynamodb, sqs, secrets = _region_backends()
        if not (self._tables <= set(dynamodb.tables) and self._queues <= set(sqs.queues)):
            return False
        for name in set(dynamodb.tables) - self._tables:
            del dynamodb.tables[name]
        for table in dynamodb.tables.values():
            table.items.clear()
        for name in set(sqs.queues) - self._queues:
            del sqs.queues[name]
        for queue in sqs.queues.values():
            with queue._messages_lock:
                queue._messages = []
                queue._pending_messages = set()
                queue.deleted_messages = set()
                queue.last_purged_at = None
        dict.clear(secrets.secrets)
        for name, secret in self._secrets.items():
            dict.__setitem__(secrets.secrets, name, copy.deepcopy(secret))
        return True


def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return DEFAULT_ACCOUNT_ID


def _backend_dicts() -> tuple[Any, ...]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.sqs.models import sqs_backends

    return dynamodb_backends, sqs_backends, secretsmanager_backends


def _region_backends() -> tuple[Any, Any, Any]:
    dynamodb, sqs, secrets = _backend_dicts()
    account = _account()
    return dynamodb[account][LOCAL_REGION], sqs[account][LOCAL_REGION], secrets[account][LOCAL_REGION]


@functools.cache
def _shared_loader(data_path: str | None = None) -> Any:
    from botocore.loaders import create_loader

    return create_loader(data_path)


def share_botocore_data_loader() -> Any:
    """Make every botocore session of this process share one loader of botocore's data files.

    Each new ``boto3.session.Session()`` (the code under test makes one per client) otherwise reads
    and parses the endpoint and service model files again: about 0.3 s per client on a busy
    machine, against 0.04 s with the files' parsed content shared. Only read-only data is shared.
    Returns what to put back (``restore_botocore_data_loader``).
    """
    import botocore.session

    original = botocore.session.create_loader
    botocore.session.create_loader = _shared_loader
    return original


def restore_botocore_data_loader(original: Any) -> None:
    import botocore.session

    botocore.session.create_loader = original
