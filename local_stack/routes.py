"""HTTP API routes read from the template's ``HttpApi`` events, selected as API Gateway selects them.

API Gateway picks the most specific match: a full match (static segments, then ``{name}``
variables) beats a greedy ``{name+}`` variable, a longer static prefix beats a shorter one, an
explicit method beats ``ANY`` on the same path, and ``$default`` comes last. A greedy variable
matches one or more characters, so ``/{proxy+}`` does not match ``/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_ROUTE = "$default"
ANY_METHOD = "ANY"

_VARIABLE = re.compile(r"^\{([A-Za-z0-9_.-]+)\}$")
_GREEDY = re.compile(r"^\{([A-Za-z0-9_.-]+)\+\}$")

# Segment kinds, most specific first.
_STATIC, _VARIABLE_SEGMENT, _GREEDY_SEGMENT = 0, 1, 2


@dataclass(frozen=True)
class Route:
    method: str  # an HTTP method or ANY; ignored for $default
    path: str  # "/beta/messages", "/pets/{id}", "/{proxy+}" or "$default"
    function: str  # logical id of the function it invokes

    @property
    def key(self) -> str:
        """The ``routeKey`` API Gateway puts in the event."""
        return DEFAULT_ROUTE if self.is_default else f"{self.method} {self.path}"

    @property
    def is_default(self) -> bool:
        return self.path == DEFAULT_ROUTE

    @property
    def segments(self) -> list[str]:
        return self.path.split("/")[1:]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route takes ``method path``, else None."""
        if self.is_default:
            return {}
        if self.method != ANY_METHOD and self.method != method:
            return None
        wanted = path.split("/")[1:]
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            greedy = _GREEDY.match(segment)
            if greedy:
                rest = "/".join(wanted[index:])
                if not rest:
                    return None
                params[greedy.group(1)] = rest
                return params
            if index >= len(wanted):
                return None
            variable = _VARIABLE.match(segment)
            if variable:
                if not wanted[index]:
                    return None
                params[variable.group(1)] = wanted[index]
            elif segment != wanted[index]:
                return None
        return params if len(wanted) == len(self.segments) else None

    def specificity(self) -> tuple[Any, ...]:
        """Sort key: the most specific route sorts first."""
        kinds = tuple(_segment_kind(s) for s in self.segments)
        return (self.is_default, _GREEDY_SEGMENT in kinds, kinds, self.method == ANY_METHOD)


def _segment_kind(segment: str) -> int:
    if _GREEDY.match(segment):
        return _GREEDY_SEGMENT
    if _VARIABLE.match(segment):
        return _VARIABLE_SEGMENT
    return _STATIC


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=Route.specificity)
        keys = [r.key for r in self.routes]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"duplicate HTTP API routes: {', '.join(duplicates)}")
        for route in self.routes:
            _check_path(route)

    def select(self, method: str, path: str) -> RouteMatch | None:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return RouteMatch(route, params)
        return None


def _check_path(route: Route) -> None:
    if route.is_default:
        return
    if not route.path.startswith("/"):
        raise ValueError(f"route path must start with '/': {route.key}")
    greedy_at = [i for i, s in enumerate(route.segments) if _GREEDY.match(s)]
    if greedy_at and greedy_at != [len(route.segments) - 1]:
        raise ValueError(f"a greedy path variable must be the last segment: {route.key}")


def routes_from_template(template: dict[str, Any]) -> RouteTable:
    """Every ``HttpApi`` event of every function. An event without Method and Path is ``$default``."""
    routes = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            method = str(props.get("Method", ANY_METHOD)).upper()
            path = props.get("Path", DEFAULT_ROUTE)
            routes.append(Route(method=method, path=path, function=logical_id))
    return RouteTable(routes)
