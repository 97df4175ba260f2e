"""Every function ``template.yaml`` declares, as the benchmarks need them (new functions are picked up)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local_stack.functions import FUNCTION_TYPE, FunctionConfig, function_configs, function_property
from local_stack.template import LocalResources, load_template, resolve, resources_of_type
from tests.support.settings import placeholder_resources

DEFAULT_ARCHITECTURE = "x86_64"  # Lambda's default when neither the function nor Globals set one


@dataclass(frozen=True)
class FunctionSpec:
    config: FunctionConfig  # code dir, handler, memory, timeout, environment, layers
    architecture: str

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def handler_module(self) -> str:
        """``app`` for ``Handler: app.handler``."""
        return self.config.handler.rpartition(".")[0]


def function_specs(
    template: dict[str, Any] | None = None, local: LocalResources | None = None
) -> dict[str, FunctionSpec]:
    """By logical id, in template order. Without ``local``, resources resolve to their logical ids."""
    template = template if template is not None else load_template()
    local = local or placeholder_resources(template)
    configs = function_configs(template, local)
    return {
        logical_id: FunctionSpec(config=configs[logical_id], architecture=_architecture(template, logical_id, local))
        for logical_id in resources_of_type(template, FUNCTION_TYPE)
    }


def _architecture(template: dict[str, Any], logical_id: str, local: LocalResources) -> str:
    """``arm64`` or ``x86_64``, with the template's ``Architecture`` parameter resolved."""
    architectures = resolve(function_property(template, logical_id, "Architectures", [DEFAULT_ARCHITECTURE]), local)
    return str(architectures[0]) if architectures else DEFAULT_ARCHITECTURE
