"""Model manifests (reference §2): strict loading into ``Manifest`` and the promotion edit.

``load_manifest`` validates a manifest and points at ``file:line:column`` of the first
problem with a hint. ``apply_promotion`` is the round-trip edit behind promotions and
rollbacks: the target's promoted keys become the source's, and everything else in the
target (local keys, comments, key order, quoting) stays as it was.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.core import paths, yamlsafe
from bot.core.model import DIGEST_RE, MODEL_NAME_RE, NAME_RULE, Manifest
from bot.core.registry import RegistryRef, model_problem, version_problem
from bot.core.yamlsafe import MAX_METRIC
from bot.errors import ManifestError, UsageError

if TYPE_CHECKING:  # ruamel is imported where a round trip happens: `status` never pays for it
    from ruamel.yaml import YAML

API_VERSION = "promobot/v1"
KIND = "ModelDeployment"
ALWAYS_LOCAL = ("serving",)
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,127}$")
KNOWN_KEYS = frozenset(
    {
        "apiVersion",
        "kind",
        "name",
        "version",
        "owner",
        "artifact",
        "metrics",
        "eval_dataset",
        "lineage",
        "model_card",
        "labels",
        "serving",
        "registry",
    }
)


# --------------------------------------------------------------------------- loading


def load_manifest(text: str | bytes, *, path: str, expected_name: str | None = None) -> Manifest:
    """Parse and validate a manifest; ``expected_name`` is the file stem it must be named after."""
    doc = yamlsafe.parse(text, path=path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a manifest must be a YAML mapping", "start from the example in reference §2")
    _expect_const(doc, data, "apiVersion", API_VERSION)
    _expect_const(doc, data, "kind", KIND)

    name = _required_str(doc, data, ("name",), "name the model after its file: name: <file name>")
    if MODEL_NAME_RE.fullmatch(name) is None:
        raise doc.error(
            ("name",),
            f"model name {name!r} is not valid",
            NAME_RULE,
        )
    if expected_name is not None and name != expected_name:
        raise doc.error(
            ("name",),
            f"name {name!r} does not match the file name {expected_name}.yaml",
            f"set name: {expected_name}, or rename the file to {name}.yaml",
        )

    version = _version(doc, data)
    artifact = _mapping(doc, data, ("artifact",), required=True)
    artifact_uri = _required_str(doc, artifact, ("artifact", "uri"), "give the artifact's location")
    artifact_digest = _digest(doc, artifact, ("artifact", "digest"), required=True) or ""
    if "format" in artifact:
        _required_str(doc, artifact, ("artifact", "format"), "e.g. format: onnx")
    if "size_bytes" in artifact:
        size = artifact["size_bytes"]
        if type(size) is not int or size < 0:
            raise doc.error(
                ("artifact", "size_bytes"),
                "artifact.size_bytes must be a whole number of bytes",
                "write the size as an integer, e.g. size_bytes: 18311020",
            )

    metrics = _metrics(doc, data)
    eval_uri: str | None = None
    eval_digest: str | None = None
    if "eval_dataset" in data:
        ev = _mapping(doc, data, ("eval_dataset",), required=True)
        eval_uri = _required_str(doc, ev, ("eval_dataset", "uri"), "give the dataset's location")
        eval_digest = _digest(doc, ev, ("eval_dataset", "digest"), required=False)

    owner: str | None = None
    if "owner" in data:
        owner = _required_str(doc, data, ("owner",), 'a login or a team, e.g. owner: "@acme/fraud-ml"')
    if "model_card" in data:
        _required_str(doc, data, ("model_card",), "a path or URL of the model card")
    lineage = _mapping(doc, data, ("lineage",), required=False)
    labels = _mapping(doc, data, ("labels",), required=False)
    for key, value in labels.items():
        if not isinstance(value, str):
            raise doc.error(
                ("labels", key),
                f"label {key!r} is not a string",
                f'quote the value: {key}: "{doc.source_text(("labels", key)) or value}"',
            )
    _mapping(doc, data, ("serving",), required=False)
    registry = _registry(doc, data)

    return Manifest(
        name=name,
        version=version,
        artifact_uri=artifact_uri,
        artifact_digest=artifact_digest,
        metrics=metrics,
        data=data,
        eval_dataset_uri=eval_uri,
        eval_dataset_digest=eval_digest,
        owner=owner,
        lineage=lineage,
        path=path,
        registry=registry,
    )


def unknown_keys(manifest: Manifest, local_keys: Sequence[str] = ()) -> list[str]:
    """Top-level keys promobot does not know (allowed and promoted; ``validate`` warns)."""
    return [k for k in manifest.data if k not in KNOWN_KEYS and k not in local_keys]


def checked_manifest_path(env: str, model: str) -> str:
    """``environments/<env>/<model>.yaml`` (``paths.manifest_path``), after checking both names are
    safe path parts."""
    for what, name in (("environment", env), ("model", model)):
        if MODEL_NAME_RE.fullmatch(name) is None:
            raise UsageError(
                f"{what} name {name!r} is not valid",
                "names use lowercase letters, digits, '.', '_' and '-' (at most 64 characters)",
            )
    return paths.manifest_path(env, model)


def promoted_keys(keys: Sequence[str], local_keys: Sequence[str]) -> list[str]:
    """The keys of ``keys`` that a promotion carries (all but ``serving`` and ``local_keys``)."""
    return [k for k in keys if k not in ALWAYS_LOCAL and k not in local_keys]


def _expect_const(doc: yamlsafe.Document, data: Mapping[str, Any], key: str, want: str) -> None:
    if key not in data:
        raise doc.error((), f"{key} is missing", f"add `{key}: {want}` at the top of the file")
    if data[key] != want:
        raise doc.error((key,), f"{key} is {data[key]!r}, expected {want!r}", f"write `{key}: {want}`")


def _required_str(doc: yamlsafe.Document, parent: Mapping[str, Any], path: tuple[str, ...], hint: str) -> str:
    key = path[-1]
    dotted = ".".join(path)
    if key not in parent:
        raise doc.error(path[:-1], f"{dotted} is missing", hint)
    value = parent[key]
    if not isinstance(value, str) or not value:
        raise doc.error(path, f"{dotted} must be a non-empty string", hint)
    return value


def _version(doc: yamlsafe.Document, data: Mapping[str, Any]) -> str:
    if "version" not in data:
        raise doc.error((), "version is missing", 'add the model version, e.g. version: "1.4.2"')
    value = data["version"]
    if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
        raise doc.error(("version",), "version must be a string", 'write it like version: "1.4.2"')
    if not isinstance(value, str):
        written = doc.source_text(("version",)) or str(value)
        raise doc.error(
            ("version",),
            f"version {written} is a number, not a string (YAML reads {written} as {value!r})",
            f'quote it: version: "{written}"',
        )
    if VERSION_RE.fullmatch(value) is None:
        raise doc.error(
            ("version",),
            f"version {value!r} is not a safe version string",
            "use letters, digits, '.', '_', '+' and '-' (SemVer recommended), at most 128 characters",
        )
    return value


def _digest(
    doc: yamlsafe.Document, parent: Mapping[str, Any], path: tuple[str, ...], *, required: bool
) -> str | None:
    dotted = ".".join(path)
    if path[-1] not in parent:
        if required:
            raise doc.error(path[:-1], f"{dotted} is missing", "add digest: sha256:<64 lowercase hex digits>")
        return None
    value = parent[path[-1]]
    if not isinstance(value, str) or DIGEST_RE.fullmatch(value) is None:
        raise doc.error(
            path,
            f"{dotted} {value!r} is not a sha256 digest",
            "write sha256: followed by 64 lowercase hex digits (sha256sum prints them)",
        )
    return value


def _mapping(
    doc: yamlsafe.Document, parent: Mapping[str, Any], path: tuple[str, ...], *, required: bool
) -> dict[str, Any]:
    dotted = ".".join(path)
    if path[-1] not in parent:
        if required:
            raise doc.error(path[:-1], f"{dotted} is missing", f"add a {dotted}: mapping")
        return {}
    value = parent[path[-1]]
    if not isinstance(value, dict):
        raise doc.error(path, f"{dotted} must be a mapping", f"write {dotted} as `key: value` lines")
    return value


def _finite(value: float) -> bool:
    """True for a number that converts to a finite float of a sane size (never raises)."""
    try:
        return math.isfinite(float(value)) and abs(float(value)) <= MAX_METRIC
    except OverflowError:
        return False


def _metrics(doc: yamlsafe.Document, data: Mapping[str, Any]) -> dict[str, float]:
    metrics = _mapping(doc, data, ("metrics",), required=False)
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise doc.error(
                ("metrics", key),
                f"metric {key!r} is {value!r}, not a number",
                "metrics map names to numbers, e.g. auc: 0.931",
            )
        if not _finite(value):
            shown = (
                f"{str(value)[:20]}… ({len(str(value))} digits)" if isinstance(value, int) else repr(value)
            )
            raise doc.error(
                ("metrics", key),
                f"metric {key!r} is {shown}, too large or not finite",
                f"metrics must be finite numbers below {MAX_METRIC:g}",
            )
    return metrics


# --------------------------------------------------------------------------- registry (MLflow)


def _registry(doc: yamlsafe.Document, data: Mapping[str, Any]) -> RegistryRef | None:
    """``registry: {mlflow: {model, version}}`` — see README "Keep MLflow in step"."""
    reg = _mapping(doc, data, ("registry",), required=False)
    if not reg:
        return None
    for key in reg:
        if key != "mlflow":
            raise doc.error(
                ("registry", key),
                f"unknown registry {key!r}",
                "promobot follows MLflow's model registry: write registry: {mlflow: {model, version}}",
            )
    mlflow = _mapping(doc, reg, ("registry", "mlflow"), required=True)
    for key in mlflow:
        if key not in ("model", "version"):
            raise doc.error(
                ("registry", "mlflow", key),
                f"unknown key {key!r} in registry.mlflow",
                "registry.mlflow takes model (the registered model name) and version",
            )
    model = _required_str(
        doc,
        mlflow,
        ("registry", "mlflow", "model"),
        "the registered model's name, e.g. model: fraud-detector",
    )
    problem = model_problem(model)
    if problem is not None:
        raise doc.error(
            ("registry", "mlflow", "model"), problem, "rename it to a plain registered-model name"
        )
    if "version" not in mlflow:
        raise doc.error(
            ("registry", "mlflow"), "registry.mlflow.version is missing", 'add e.g. version: "12"'
        )
    raw = mlflow["version"]
    if not isinstance(raw, str):
        written = doc.source_text(("registry", "mlflow", "version")) or str(raw)
        raise doc.error(
            ("registry", "mlflow", "version"),
            f"registry.mlflow.version {written} is not a string",
            f'quote it: version: "{written}"',
        )
    problem = version_problem(raw)
    if problem is not None:
        raise doc.error(("registry", "mlflow", "version"), problem, "MLflow numbers versions 1, 2, 3 …")
    return RegistryRef(model=model, version=raw)


# --------------------------------------------------------------------------- promotion edit


def apply_promotion(
    source_text: str,
    target_text: str | None,
    local_keys: Sequence[str],
    *,
    source_path: str = "<source>",
    target_path: str = "<target>",
) -> str:
    """The target manifest with the source's promoted keys and the target's local keys.

    ``target_text`` None means the model is new to the target: it takes the source as is.
    The edit is textual where it can be (each top-level entry is moved whole, so the
    target keeps its bytes and the source's entries keep theirs), with a ruamel.yaml
    round-trip for documents that are not a plain block mapping. Applying twice gives
    the same bytes.
    """
    if target_text is None:
        return source_text
    local = (*ALWAYS_LOCAL, *local_keys)
    src_doc = yamlsafe.parse(source_text, path=source_path)
    tgt_doc = yamlsafe.parse(target_text, path=target_path)
    if not isinstance(src_doc.data, dict) or not isinstance(tgt_doc.data, dict):
        raise ManifestError("a manifest must be a YAML mapping", "fix the manifest first", file=source_path)
    want = _expected(src_doc.data, tgt_doc.data, local)
    result = _splice(source_text, target_text, src_doc, tgt_doc, local)
    if result is None or not _matches(result, want):
        result = _roundtrip(source_text, target_text, local)
        if not _matches(result, want):
            raise ManifestError(
                "could not apply the promotion without changing other keys",
                "remove YAML anchors and aliases that cross top-level keys, then retry",
                file=target_path,
            )
    return target_text if result == target_text else result


def _expected(src: Mapping[str, Any], tgt: Mapping[str, Any], local: Sequence[str]) -> dict[str, Any]:
    out = {k: v for k, v in src.items() if k not in local}
    out.update({k: v for k, v in tgt.items() if k in local})
    return out


def _matches(text: str, want: Mapping[str, Any]) -> bool:
    try:
        got = yamlsafe.load(text, path="<result>")
    except ManifestError:
        return False
    return isinstance(got, dict) and got == dict(want)


class _Layout:
    """A block-mapping document cut into a header, per top-level key (leading comments, body), a tail."""

    def __init__(self, header: str, entries: dict[str, tuple[str, str]], tail: str) -> None:
        self.header, self.entries, self.tail = header, entries, tail


def _layout(text: str, doc: yamlsafe.Document) -> _Layout | None:
    from yaml.nodes import MappingNode, ScalarNode  # loaded by the parse that made ``doc``

    root = doc.node
    if not isinstance(root, MappingNode) or root.flow_style or yamlsafe.has_bad_line_breaks(text):
        return None
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    starts: list[tuple[str, int]] = []
    column = None
    for key_node, _ in root.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            return None
        mark = key_node.start_mark
        if column is None:
            column = mark.column
        if mark.column != column or (starts and starts[-1][1] >= mark.line):
            return None
        starts.append((key_node.value, mark.line))
    if not starts or column is None:
        return None
    key_column = column

    def is_loose(line: str) -> bool:  # blank, or a comment at (or left of) the key column
        stripped = line.strip()
        return not stripped or (stripped.startswith("#") and len(line) - len(line.lstrip()) <= key_column)

    end = len(lines)
    while end > starts[-1][1] + 1 and (is_loose(lines[end - 1]) or lines[end - 1].strip() in ("...", "---")):
        end -= 1
    entries: dict[str, tuple[str, str]] = {}
    for i, (key, line_no) in enumerate(starts):
        first = line_no
        if i:
            while first > starts[i - 1][1] + 1 and is_loose(lines[first - 1]):
                first -= 1
        stop = starts[i + 1][1] if i + 1 < len(starts) else end
        if i + 1 < len(starts):
            while stop > line_no + 1 and is_loose(lines[stop - 1]):
                stop -= 1
        entries[key] = ("".join(lines[first:line_no]), "".join(lines[line_no:stop]))
    return _Layout("".join(lines[: starts[0][1]]), entries, "".join(lines[end:]))


def _splice(
    source_text: str,
    target_text: str,
    src_doc: yamlsafe.Document,
    tgt_doc: yamlsafe.Document,
    local: Sequence[str],
) -> str | None:
    src = _layout(source_text, src_doc)
    tgt = _layout(target_text, tgt_doc)
    if src is None or tgt is None:
        return None
    newline = "\r\n" if "\r\n" in target_text else "\n"
    src_style, tgt_style = _indent_style(source_text), _indent_style(target_text)
    reindent: Style | None = None
    if _differ(src_style, tgt_style):
        reindent = (
            src_style[0] if tgt_style[0] is None else tgt_style[0],
            src_style[1] if tgt_style[1] is None else tgt_style[1],
        )

    def from_source(key: str, part: int) -> str:
        chunk = src.entries[key][part].replace("\r\n", "\n")
        if part == 1 and reindent is not None:
            chunk = _reindent_entry(key, chunk, reindent)
        if chunk and not chunk.endswith("\n"):
            chunk += "\n"
        return chunk.replace("\n", newline)

    out: list[tuple[str, str]] = []
    for key, (leading, body) in tgt.entries.items():
        if key in local:
            out.append((key, leading + body))
        elif key in src.entries:
            unchanged = _same_value(src_doc.data[key], tgt_doc.data[key])
            out.append((key, leading + (body if unchanged else from_source(key, 1))))
    placed = {k for k, _ in out}
    previous: str | None = None
    for key in src.entries:
        if key not in local and key not in placed:
            at = 0 if previous is None else next(i for i, (k, _) in enumerate(out) if k == previous) + 1
            leading = from_source(key, 0) if at else ""
            out.insert(at, (key, leading + from_source(key, 1)))
            placed.add(key)
        if key in placed:
            previous = key
    for i, (key, chunk) in enumerate(out):
        if not chunk.endswith("\n") and (i + 1 < len(out) or tgt.tail):
            out[i] = (key, chunk + newline)
    return tgt.header + "".join(chunk for _, chunk in out) + tgt.tail


def _same_value(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (``1``, ``1.0`` and ``true`` differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_value(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


Style = tuple[int | None, int | None]


def _indent_style(text: str) -> Style:
    """``(mapping indent, sequence dash offset)`` as the text uses them (None: not seen)."""
    mapping: int | None = None
    offset: int | None = None
    prev: tuple[int, str] | None = None
    for line in text.split("\n"):
        content = line.split(" #", 1)[0].rstrip()
        stripped = content.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(content) - len(stripped)
        if prev is not None and prev[1].endswith(":"):
            if stripped.startswith("- ") or stripped == "-":
                offset = indent - prev[0] if offset is None else offset
            elif indent > prev[0] and mapping is None:
                mapping = indent - prev[0]
        prev = (indent, stripped)
        if mapping is not None and offset is not None:
            break
    return (mapping, offset)


def _differ(a: Style, b: Style) -> bool:
    return any(x is not None and y is not None and x != y for x, y in zip(a, b, strict=True))


def _rt(style: Style | None) -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    if style is not None:
        mapping = style[0] or 2
        offset = style[1] or 0
        yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _reindent_entry(key: str, chunk: str, style: Style) -> str:
    """Re-emit one top-level entry of the source in the target's indentation style."""
    lines = chunk.split("\n")
    key_at = next(i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#"))
    comments = "\n".join(lines[:key_at])
    body = "\n".join(lines[key_at:])
    try:
        data = _rt(None).load(body)
        from ruamel.yaml.comments import CommentedMap

        if not isinstance(data, CommentedMap) or list(data) != [key]:
            return chunk
        stream = io.StringIO()
        _rt(style).dump(data, stream)
    except Exception:
        return chunk
    return (comments + "\n" if key_at else "") + stream.getvalue()


def _roundtrip(source_text: str, target_text: str, local: Sequence[str]) -> str:
    """The same edit through ruamel.yaml objects, for documents the text splice cannot cut."""
    style = _indent_style(target_text)
    yaml = _rt(style)
    src = yaml.load(source_text)
    tgt = yaml.load(target_text)
    for key in [k for k in tgt if k not in local and k not in src]:
        del tgt[key]
    previous: str | None = None
    for key in src:
        if key in local:
            if key in tgt:
                previous = key
            continue
        if key in tgt:
            tgt[key] = src[key]
        else:
            at = 0 if previous is None else list(tgt).index(previous) + 1
            tgt.insert(at, key, src[key])
        previous = key
    stream = io.StringIO()
    yaml.dump(tgt, stream)
    return stream.getvalue()
