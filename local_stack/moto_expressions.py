"""moto's DynamoDB expressions without the work it repeats on every request with the same answer.

Profiling the bench's load run showed an UpdateItem costing about 4 ms of CPU in moto's process,
more than any other call and most of it in the expression machinery, rebuilt from the text on every
request although the functions send a few dozen distinct expressions:

- **Parsing.** An update expression is tokenised and parsed twice per request (the handler lists the
  names and values it uses, the backend applies it) and a condition expression is lexed twice. Each
  distinct text is now parsed, or lexed, once. The tree moto's handler reads is shared (it only
  reads it); the validator, which rewrites its tree, gets a private copy made by unpickling the
  parsed tree (``copy.deepcopy`` of the tree cost more than parsing it).
- **The checks that depend on the text alone.** The first three of the update validator's passes
  (at most one clause of each kind, no overlapping paths, no key attribute updated) read only the
  expression, its attribute names and the table's keys. Once they pass for a combination, they are
  not run again for it; a combination that fails runs them every time, so the error is moto's.
- **Walking the tree.** Each pass walks the tree through
  ``DepthFirstTraverser.traverse_node_recursively``, which rebuilds the pass's processing map at
  every node and asks ``isinstance`` of abstract classes (a slow path) for each. The replacement
  visits the same nodes in the same order, calls the same hooks and processors, and looks each node
  class up once per pass.

The caches are plain dictionaries, bounded, shared by moto's request threads: at worst two threads
parse the same text at once. ``ORIGINALS`` keeps what was replaced (the tests compare answers with
moto's own).
"""

from __future__ import annotations

import pickle
from collections import deque
from typing import Any

MAX_REMEMBERED = 4096  # distinct texts per cache; a client inventing expressions cannot grow it further
_EXPRESSION_TEXT = "_local_stack_expression_text"  # set on a parsed tree: the text it was parsed from

_parsed: dict[str, tuple[Any, bytes]] = {}  # update expression text -> (shared tree, its pickled form)
_lexed: dict[str, tuple[Any, ...]] = {}  # condition expression text -> its lexed nodes (immutable tuples)
_passed_text_checks: set[tuple[Any, ...]] = set()
ORIGINALS: dict[tuple[type, str], Any] = {}


def install() -> None:
    """Patch moto's expression classes in this process (``moto_speedups.install`` calls it once)."""
    _parse_update_expressions_once()
    _lex_condition_expressions_once()
    _walk_trees_cheaply()
    _run_text_checks_once()


def _remember(owner: type, name: str) -> Any:
    original = owner.__dict__[name]
    ORIGINALS[(owner, name)] = original
    return original


def bound_cache(cache: dict[Any, Any] | set[Any]) -> None:
    """Empty ``cache`` once it holds ``MAX_REMEMBERED`` entries (the local stack's caches of moto's repeated work)."""
    if len(cache) >= MAX_REMEMBERED:
        cache.clear()


def _parse_update_expressions_once() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import Validator

    make = _remember(UpdateExpressionParser, "make").__func__

    def make_once(cls: type, expression_str: str) -> Any:
        if cls is not UpdateExpressionParser:
            return make(cls, expression_str)
        parsed = _parsed.get(expression_str)
        if parsed is None:
            tree = make(cls, expression_str)  # an invalid text raises here every time: nothing is kept
            setattr(tree, _EXPRESSION_TEXT, expression_str)
            bound_cache(_parsed)
            parsed = _parsed[expression_str] = (tree, pickle.dumps(tree, pickle.HIGHEST_PROTOCOL))
        return parsed[0]

    UpdateExpressionParser.make = classmethod(make_once)  # type: ignore[method-assign,assignment]

    init = _remember(Validator, "__init__")

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - the method it replaces
        init(self, None, *args, **kwargs)  # moto's own set-up, with nothing to deep-copy
        parsed = _parsed.get(getattr(expression, _EXPRESSION_TEXT, None))  # type: ignore[arg-type]
        if parsed is not None and parsed[0] is expression:
            self.node_to_validate = pickle.loads(parsed[1])  # noqa: S301 - our own bytes, made above
        else:
            self.node_to_validate = pickle.loads(pickle.dumps(expression, pickle.HIGHEST_PROTOCOL))  # noqa: S301

    Validator.__init__ = __init__  # type: ignore[method-assign]


def _lex_condition_expressions_once() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = _remember(ConditionExpressionParser, "_lex_condition_expression")

    def lex_once(self: Any) -> deque[Any]:
        text = self.condition_expression
        nodes = _lexed.get(text)
        if nodes is None:
            lexed = tuple(lex(self))
            bound_cache(_lexed)
            nodes = _lexed[text] = lexed
        return deque(nodes)  # the parser consumes its deque; the nodes are namedtuples nobody changes

    ConditionExpressionParser._lex_condition_expression = lex_once  # type: ignore[method-assign]  # noqa: SLF001


def _walk_trees_cheaply() -> None:
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    _remember(DepthFirstTraverser, "traverse")
    default_hook = DepthFirstTraverser.pre_processing_of_child
    is_node: dict[type, bool] = {}

    def traverse(self: Any, node: Any) -> Any:
        """``traverse_node_recursively`` as moto has it, with each class's processor looked up once."""
        processing = self._processing_map()  # noqa: SLF001
        wanted = self.nodes_to_be_processed()
        hook = self.pre_processing_of_child if type(self).pre_processing_of_child is not default_hook else None
        processors: dict[type, Any] = {}

        def processor_for(node_class: type) -> Any:
            try:
                return processors[node_class]
            except KeyError:
                found = None
                if issubclass(node_class, wanted):
                    found = next(fn for cls, fn in processing.items() if issubclass(node_class, cls))
                processors[node_class] = found
                return found

        def visit(node: Any, child_id: int) -> Any:
            parent = node.parent
            children = node.children
            if children is not None:
                for i, child in enumerate(children):
                    if hook is not None:
                        hook(node, i)
                    child_class = type(child)
                    child_is_node = is_node.get(child_class)
                    if child_is_node is None:
                        child_is_node = is_node[child_class] = issubclass(child_class, Node)
                    if child_is_node:
                        visit(child, i)
            process = processor_for(type(node))
            if process is not None:
                node = process(node)
                node.parent = parent
                if parent:
                    parent.children[child_id] = node
            return node

        return visit(node, -1) if isinstance(node, Node) else node

    DepthFirstTraverser.traverse = traverse  # type: ignore[method-assign]


def _run_text_checks_once() -> None:
    from moto.dynamodb.parsing import validators

    text_checks = (
        validators.ActionCountValidator,
        validators.OverlappingPathsValidator,
        validators.UpdateHashRangeKeyValidator,
    )
    _remember(validators.Validator, "validate")

    def text_checks_key(validator: Any) -> tuple[Any, ...] | None:
        text = getattr(validator.node_to_validate, _EXPRESSION_TEXT, None)
        first = tuple(type(p) for p in validator.processors[: len(text_checks)])
        if text is None or not isinstance(validator, validators.UpdateExpressionValidator) or first != text_checks:
            return None
        names = tuple(sorted((validator.expression_attribute_names or {}).items()))
        return text, names, tuple(validator.table.table_key_attrs)

    def validate(self: Any) -> Any:
        node = self.node_to_validate
        key = text_checks_key(self)
        processors = self.processors
        if key is not None and key in _passed_text_checks:
            processors = processors[len(text_checks) :]
        for processor in processors:
            node = processor.traverse(node)
        if key is not None:
            bound_cache(_passed_text_checks)
            _passed_text_checks.add(key)
        return node

    validators.Validator.validate = validate  # type: ignore[method-assign]
