"""Strict YAML parsing for ``environments/**``: the one place those files are read.

PyYAML's C parser (``CSafeLoader``, or the pure-Python ``SafeLoader`` when libyaml is
missing) with a YAML 1.2 core schema and the checks reference §2 asks for:

- input over 1 MiB, or not UTF-8, is refused before parsing;
- duplicate mapping keys are an error (reported at the second occurrence);
- only the core tags (``!!null !!bool !!int !!float !!str !!seq !!map``) are accepted:
  ``!!python/object``, ``!!binary``, ``!custom`` … are errors;
- implicit typing follows YAML 1.2 core: ``yes``/``no``/``on``/``off`` and dates stay
  strings, ``010`` is ten (the same reading ruamel.yaml gives the round-trip editor);
- mapping keys must be strings;
- aliases are legal, but the document *as expanded* may hold at most ``MAX_NODES``
  nodes and nest at most ``MAX_DEPTH`` deep, so alias bombs are impossible.

The checks ride on the normal construction pass (no second parse); the node tree is
kept so that validators can point at ``file:line:column`` of any value on error.
:class:`Reader` reads typed values out of a parsed document that way, within the limits below.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Hashable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, NoReturn

from bot.errors import ManifestError

if TYPE_CHECKING:
    from yaml import Loader
    from yaml.nodes import MappingNode, Node

MAX_BYTES = 1024 * 1024
MAX_NODES = 10_000
MAX_DEPTH = 64

_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"
CORE_TAGS = frozenset(_TAG + t for t in ("null", "bool", "int", "float", "str", "seq", "map"))
_BAD_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")

Path = Sequence[str | int]


@functools.cache
def strict_loader() -> type[Loader]:
    """``CSafeLoader`` with the YAML 1.2 core schema, core tags only, no duplicate keys.

    Built on the first parse: PyYAML is imported then, not when a module that may parse is
    imported (``status`` and ``history`` on a warm cache parse nothing; issue #16)."""
    import yaml
    from yaml.constructor import SafeConstructor
    from yaml.nodes import MappingNode, SequenceNode

    # libyaml is an optional part of PyYAML: the pure-Python SafeLoader stands in without it
    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[valid-type,misc]
        yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012
        yaml_constructors: ClassVar[dict[Any, Any]] = {}

        def construct_yaml_int(self, node: Node) -> int:
            text = str(self.construct_scalar(node))
            sign = -1 if text[:1] == "-" else 1
            body = text.lstrip("+-")
            try:
                if body[:2] in ("0o", "0x"):
                    return sign * int(body[2:], 8 if body[1] == "o" else 16)
                return sign * int(body, 10)
            except ValueError:
                _fail_at(node, f"{text!r} is not an integer", "write a decimal, 0o or 0x number")

        def construct_yaml_float(self, node: Node) -> float:
            try:
                return float(SafeConstructor.construct_yaml_float(self, node))  # type: ignore[arg-type]
            except ValueError:
                _fail_at(
                    node, f"{node.value!r} is not a number", "write a number such as 0.93, or drop !!float"
                )

        def construct_yaml_bool(self, node: Node) -> bool:
            try:
                return bool(SafeConstructor.construct_yaml_bool(self, node))  # type: ignore[arg-type]
            except KeyError:
                _fail_at(
                    node, f"{node.value!r} is not a boolean", "write true or false, or drop the !!bool tag"
                )

        def construct_yaml_map(self, node: MappingNode) -> Iterator[dict[str, Any]]:
            data: dict[str, Any] = {}
            yield data
            data.update(self.construct_mapping(node))  # type: ignore[arg-type]

        def construct_mapping(self, node: Node, deep: bool = False) -> dict[Hashable, Any]:
            if not isinstance(node, MappingNode):
                _fail_at(node, "expected a mapping here", "write `key: value` pairs")
            mapping: dict[Hashable, Any] = {}
            merges: list[Node] | None = None
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    merges = [*(merges or []), value_node]
                    continue
                key = self.construct_object(key_node, deep=deep)
                if type(key) is not str:
                    _fail_at(key_node, f"mapping key {key!r} is not a string", "quote the key")
                if key in mapping:
                    _fail_at(
                        key_node,
                        f"duplicate key {key!r}",
                        "a key may appear once per mapping; delete or rename one of them",
                    )
                mapping[key] = self.construct_object(value_node, deep=deep)
            if merges:
                for merge in merges:
                    sources = merge.value if isinstance(merge, SequenceNode) else [merge]
                    for source in sources:
                        for key, value in self.construct_mapping(source, deep=deep).items():
                            mapping.setdefault(key, value)
            return mapping

        def construct_undefined(self, node: Node) -> NoReturn:
            _fail_at(
                node,
                f"YAML tag {node.tag.replace(_TAG, '!!')!r} is not allowed",
                "only the core tags are accepted (null, bool, int, float, str, seq, map); remove the tag",
            )

    def resolve(tag: str, pattern: str, first: str) -> None:
        StrictLoader.add_implicit_resolver(_TAG + tag, re.compile(pattern), list(first))

    resolve("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
    resolve("null", r"^(?:~|null|Null|NULL|)$", "~nN")
    StrictLoader.add_implicit_resolver(_TAG + "null", re.compile(r"^$"), [""])
    resolve("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
    resolve(
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    )
    resolve("merge", r"^(?:<<)$", "<")

    StrictLoader.add_constructor(_TAG + "null", SafeConstructor.construct_yaml_null)
    StrictLoader.add_constructor(_TAG + "bool", StrictLoader.construct_yaml_bool)
    StrictLoader.add_constructor(_TAG + "int", StrictLoader.construct_yaml_int)
    StrictLoader.add_constructor(_TAG + "float", StrictLoader.construct_yaml_float)
    StrictLoader.add_constructor(_TAG + "str", SafeConstructor.construct_yaml_str)
    StrictLoader.add_constructor(_TAG + "seq", SafeConstructor.construct_yaml_seq)
    StrictLoader.add_constructor(_TAG + "map", StrictLoader.construct_yaml_map)
    StrictLoader.add_constructor(None, StrictLoader.construct_undefined)
    return StrictLoader


class _LocatedError(Exception):
    """Raised inside the loader (which does not know the file name); re-raised with it."""

    def __init__(self, what: str, hint: str, line: int | None, column: int | None) -> None:
        super().__init__(what)
        self.what, self.hint, self.line, self.column = what, hint, line, column


def _fail_at(node: Node, what: str, hint: str) -> NoReturn:
    mark = node.start_mark
    raise _LocatedError(what, hint, mark.line + 1, mark.column + 1)


class Document(NamedTuple):
    """A parsed YAML document: plain ``data`` plus the node tree for error positions."""

    data: Any
    node: Node | None
    path: str

    def node_at(self, path: Path, *, key: bool = False) -> Node | None:
        """The node at ``path`` (the key node of the last step when ``key``), or the deepest found."""
        from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # loaded by the parse

        node = self.node
        for i, step in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, MappingNode) and isinstance(step, str):
                for key_node, value_node in node.value:
                    if isinstance(key_node, ScalarNode) and key_node.value == step:
                        node = key_node if (key and last) else value_node
                        break
                else:
                    return node
            elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                node = node.value[step]
            else:
                return node
        return node

    def position(self, path: Path, *, key: bool = False) -> tuple[int | None, int | None]:
        """1-based ``(line, column)`` of the value at ``path`` (see ``node_at``)."""
        node = self.node_at(path, key=key)
        if node is None:
            return (1, 1)
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def source_text(self, path: Path) -> str | None:
        """The scalar as written (``1.10`` stays ``"1.10"``), or None when not a scalar."""
        from yaml.nodes import ScalarNode  # loaded by the parse

        node = self.node_at(path)
        return node.value if isinstance(node, ScalarNode) else None

    def error(
        self,
        path: Path,
        what: str,
        hint: str,
        *,
        key: bool = False,
        cls: type[ManifestError] = ManifestError,
    ) -> ManifestError:
        """A ``cls`` error located at ``path`` in this document."""
        line, column = self.position(path, key=key)
        return cls(what, hint, file=self.path, line=line, column=column)


def decode(text: str | bytes, *, path: str) -> str:
    """``text`` as ``str``: refuse more than 1 MiB and bytes that are not UTF-8."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _too_big(path, len(text))
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise ManifestError(
                f"not UTF-8 (byte {exc.start})", "save the file as UTF-8", file=path, line=line
            ) from None
    elif len(text) > MAX_BYTES // 4 and (
        len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES
    ):
        raise _too_big(path, len(text.encode("utf-8", "surrogatepass")))
    text = text[1:] if text[:1] == "\ufeff" else text
    odd = _ODD_BREAK.search(text)
    if odd is not None:
        line = text.count("\n", 0, odd.start()) + 1
        raise ManifestError(
            f"unusual line break U+{ord(odd.group()):04X} (YAML readers disagree on it)",
            "use plain \\n (or \\r\\n) line endings",
            file=path,
            line=line,
        )
    return text


_ODD_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _too_big(path: str, size: int) -> ManifestError:
    return ManifestError(
        f"file is {size} bytes, over the 1 MiB limit",
        "manifests and policies are small; move large data out of the YAML",
        file=path,
    )


def parse(text: str | bytes, *, path: str) -> Document:
    """Parse one YAML document strictly; raise ``ManifestError`` with file:line:column."""
    import yaml

    source = decode(text, path=path)
    loader = strict_loader()(source)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_shape(node, aliased="*" in source)
            data = loader.construct_document(node)
        else:
            data = None
    except _LocatedError as exc:
        raise ManifestError(exc.what, exc.hint, file=path, line=exc.line, column=exc.column) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ManifestError(
            f"invalid YAML: {what}",
            "fix the YAML syntax at this position",
            file=path,
            line=None if mark is None else mark.line + 1,
            column=None if mark is None else mark.column + 1,
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"invalid YAML: {exc}", "fix the YAML syntax", file=path) from None
    finally:
        loader.dispose()
    return Document(data=data, node=node, path=path)


def load(text: str | bytes, *, path: str) -> Any:
    """Only the data of ``parse``."""
    return parse(text, path=path).data


def _check_shape(root: Node, *, aliased: bool) -> None:
    """Refuse documents nested deeper than MAX_DEPTH or, expanded, larger than MAX_NODES."""
    from yaml.nodes import MappingNode

    stack: list[tuple[Node, int]] = [(root, 1)]
    count = 0
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        value = node.value
        if type(value) is not list:
            continue
        count += len(value)
        if count > MAX_NODES and aliased:
            _fail_at(
                node,
                f"the document expands to more than {MAX_NODES} nodes through aliases",
                "remove the YAML anchors and aliases (*name) that repeat large parts",
            )
        if depth >= MAX_DEPTH:
            _fail_at(node, f"nesting deeper than {MAX_DEPTH} levels", "flatten the structure")
        depth += 1
        if type(node) is MappingNode:
            for _, child in value:
                if type(child.value) is list:
                    push((child, depth))
        else:
            for child in value:
                if type(child.value) is list:
                    push((child, depth))


def has_bad_line_breaks(text: str) -> bool:
    """True when ``text`` uses line breaks other than ``\\n``/``\\r\\n`` (YAML counts them)."""
    return _BAD_BREAKS.search(text) is not None


# --------------------------------------------------------------------------- typed reading

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
MAX_NUMBER = 1e12
"""The largest number a policy field takes (beyond it, time and size arithmetic overflows)."""
MAX_INTEGER = 2**63 - 1
MAX_METRIC = 1e300
"""Metrics (in a manifest), and thresholds compared with metrics and live values (in the policy),
stop here: beyond it, e.g. an integer of hundreds of digits, arithmetic on them overflows."""
MAX_HOURS = 24 * 365 * 100
"""Durations in hours stop at a century (``timedelta`` overflows near 2.7e10 hours)."""
MAX_SECONDS = 7 * 24 * 3600.0
"""Timeouts stop at a week."""


def _finite(value: float) -> bool:
    """True for a number that converts to a finite float (an integer of 400 digits does not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _shown(value: float) -> str:
    """A number for a message: an integer of hundreds of digits is cut short."""
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)"


class Reader:
    """Typed accessors over a parsed document that fail with a located ``cls`` error.

    The policy loader (``policy.load_policy``) reads with one, and so do the sections whose
    parsing lives with their types (``promql.parse_prometheus_gate``, ``verify.parse_verify``).
    """

    def __init__(self, doc: Document, cls: type[ManifestError] = ManifestError) -> None:
        self.doc = doc
        self.cls = cls

    def fail(self, path: Path, what: str, hint: str, *, key: bool = False) -> NoReturn:
        raise self.doc.error(path, what, hint, key=key, cls=self.cls)

    def mapping(self, value: Any, path: Path, allowed: Sequence[str], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"{what} must be a mapping", "write it as `key: value` pairs")
        for key in value:
            if key not in allowed:
                self.fail(
                    (*path, key),
                    f"unknown key {key!r} in {what}",
                    f"the keys allowed here are {', '.join(allowed)} (check the spelling)",
                    key=True,
                )
        return value

    def number(
        self,
        value: Any,
        path: Path,
        what: str,
        *,
        minimum: float | None = None,
        above: bool = False,
        maximum: float = MAX_NUMBER,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            self.fail(path, f"{what} must be a number", f"write a number, e.g. {what.split()[-1]}: 1")
        if minimum is not None and (value <= minimum if above else value < minimum):
            relation = "greater than" if above else "at least"
            self.fail(path, f"{what} is {value}, must be {relation} {minimum:g}", "change the number")
        if value > maximum:
            self.fail(path, f"{what} is {_shown(value)}, more than {maximum:g}", "change the number")
        return float(value)

    def integer(
        self,
        value: Any,
        path: Path,
        what: str,
        *,
        minimum: int,
        hint: str | None = None,
        maximum: int = MAX_INTEGER,
    ) -> int:
        if type(value) is not int:
            self.fail(path, f"{what} must be a whole number", f"write e.g. {minimum}")
        if value < minimum:
            self.fail(
                path,
                f"{what} is {_shown(value)}, must be at least {minimum}",
                hint or f"write {minimum} or more",
            )
        if value > maximum:
            self.fail(path, f"{what} is {_shown(value)}, more than {maximum}", "change the number")
        return value

    def boolean(self, value: Any, path: Path, what: str) -> bool:
        if type(value) is not bool:
            self.fail(path, f"{what} must be true or false", "write true or false (unquoted)")
        return value

    def string(self, value: Any, path: Path, what: str, hint: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(path, f"{what} must be a non-empty string", hint)
        return value

    def strings(self, value: Any, path: Path, what: str, hint: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(path, f"{what} must be a list", hint)
        return tuple(self.string(v, (*path, i), f"{what}[{i}]", hint) for i, v in enumerate(value))

    def identifier(self, value: Any, path: Path, what: str, hint: str) -> str:
        """A name used as an identifier (a gate's, a check's): letters, digits, ``_`` and ``-``."""
        name = self.string(value, path, what, hint)
        if IDENTIFIER_RE.fullmatch(name) is None:
            self.fail(path, f"{what} {name!r} is not an identifier", "use letters, digits, _ and -")
        return name
