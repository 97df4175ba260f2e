"""Complete function settings and environments from ``template.yaml``, for the tests and the bench.

Nothing here relies on the code's defaults: every variable is what the template gives the function,
resolved against the resources the caller created (moto) or, without them, against placeholders
(each resource's logical id, as ``local_stack.template.resolve`` falls back to).
"""
from __future__ import annotations

from typing import Any, TypeVar

from local_stack.template import LocalResources, function_environment, load_template, parameter_defaults
from switchboard.settings import FUNCTION_SETTINGS, load_settings

SettingsT = TypeVar("SettingsT")


def placeholder_resources(template: dict[str, Any]) -> LocalResources:
    """Resources as if created under their logical ids, with the template's parameter defaults."""
    return LocalResources(parameters=parameter_defaults(template), conditions=template.get("Conditions", {}))


def function_names(template: dict[str, Any]) -> list[str]:
    return [name for name, res in template["Resources"].items() if res["Type"] == "AWS::Serverless::Function"]


def function_environments(
    template: dict[str, Any] | None = None, local: LocalResources | None = None
) -> dict[str, dict[str, str]]:
    """Each function's environment (Globals merged with its own), by logical id."""
    template = template or load_template()
    local = local or placeholder_resources(template)
    return {name: function_environment(template, name, local) for name in function_names(template)}


def complete_environment(template: dict[str, Any] | None = None, local: LocalResources | None = None) -> dict[str, str]:
    """The union of every function's environment: what a test process running any function needs."""
    environment: dict[str, str] = {}
    for variables in function_environments(template, local).values():
        environment.update(variables)
    return environment


def settings_for(cls: type[SettingsT], template: dict[str, Any] | None = None,
                 local: LocalResources | None = None) -> SettingsT:
    """``cls`` loaded from the environment the template gives its function."""
    function = getattr(cls, "function")
    return load_settings(cls, function_environments(template, local)[function])


def all_settings(template: dict[str, Any] | None = None, local: LocalResources | None = None) -> dict[str, Any]:
    """Every function's settings, by function logical id."""
    environments = function_environments(template, local)
    return {cls.function: load_settings(cls, environments[cls.function]) for cls in FUNCTION_SETTINGS}
