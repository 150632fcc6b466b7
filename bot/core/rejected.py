"""``environments/rejected.yaml``: versions that must never be promoted again.

``rejected: [{model, version, reason, by, at}]``. Rollback and ``promobot reject`` add
entries; ``promobot unreject`` removes them. Edits are round-trip (comments survive)
and idempotent.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core import yamlsafe
from bot.core.manifest import VERSION_RE
from bot.core.model import MODEL_NAME_RE, Rejection
from bot.core.paths import REJECTED_PATH
from bot.errors import ManifestError

if TYPE_CHECKING:
    from ruamel.yaml import YAML

DEFAULT_PATH = REJECTED_PATH
FIELDS = ("model", "version", "reason", "by", "at")
HEADER = "# Versions that must never be promoted again (written by rollback and `promobot reject`).\n"


def load_rejected(text: str | bytes | None, *, path: str = DEFAULT_PATH) -> tuple[Rejection, ...]:
    """Every rejection in the file; a missing or empty file has none."""
    if text is None:
        return ()
    doc = yamlsafe.parse(text, path=path)
    if doc.data is None:
        return ()
    if not isinstance(doc.data, dict):
        raise doc.error((), "rejected.yaml must be a mapping", "write `rejected: []`")
    for key in doc.data:
        if key != "rejected":
            raise doc.error((key,), f"unknown key {key!r}", "rejected.yaml holds only `rejected:`", key=True)
    entries = doc.data.get("rejected") or []
    if not isinstance(entries, list):
        raise doc.error(("rejected",), "rejected must be a list", "write `rejected: []` or a list of entries")
    out: list[Rejection] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise doc.error(("rejected", i), "each rejection must be a mapping", f"give {', '.join(FIELDS)}")
        for key in entry:
            if key not in FIELDS:
                raise doc.error(
                    ("rejected", i, key),
                    f"unknown key {key!r}",
                    f"the keys are {', '.join(FIELDS)}",
                    key=True,
                )
        values: dict[str, str] = {}
        for key in FIELDS:
            value = entry.get(key)
            if not isinstance(value, str) or (not value and key in ("model", "version")):
                raise doc.error(
                    ("rejected", i, key) if key in entry else ("rejected", i),
                    f"rejected[{i}].{key} must be a string",
                    f'write {key}: "…" (quote versions and dates)',
                )
            values[key] = value
        if MODEL_NAME_RE.fullmatch(values["model"]) is None:
            raise doc.error(
                ("rejected", i, "model"), f"model name {values['model']!r} is not valid", "fix the name"
            )
        out.append(Rejection(**values))
    return tuple(out)


def find_rejection(rejections: Sequence[Rejection], model: str, version: str) -> Rejection | None:
    """The rejection of ``model`` at ``version``, if there is one."""
    return next((r for r in rejections if r.model == model and r.version == version), None)


def add_rejection(text: str | None, entry: Rejection) -> str:
    """``text`` with ``entry`` appended (unchanged when the version is already rejected)."""
    if MODEL_NAME_RE.fullmatch(entry.model) is None or VERSION_RE.fullmatch(entry.version) is None:
        raise ManifestError(
            f"cannot reject {entry.model!r} {entry.version!r}: not a valid model name and version",
            "check the model name and version",
            file=DEFAULT_PATH,
        )
    existing = load_rejected(text)
    if find_rejection(existing, entry.model, entry.version) is not None and text is not None:
        return text
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = _yaml()
    data = yaml.load(text) if text and text.strip() else None
    if data is None:
        data = CommentedMap()
        if text is None or not text.strip():
            data.yaml_set_start_comment(HEADER.lstrip("# ").rstrip("\n"))
    if not isinstance(data.get("rejected"), list):
        data["rejected"] = CommentedSeq()
    seq = data["rejected"]
    seq.fa.set_block_style()
    item = CommentedMap((key, getattr(entry, key)) for key in FIELDS)
    seq.append(item)
    return _dump(yaml, data)


def remove_rejection(text: str, model: str, version: str) -> str:
    """``text`` without the rejection of ``model`` at ``version`` (unchanged when absent)."""
    if find_rejection(load_rejected(text), model, version) is None:
        return text
    yaml = _yaml()
    data = yaml.load(text)
    seq = data["rejected"]
    for i in reversed(range(len(seq))):
        if seq[i].get("model") == model and str(seq[i].get("version")) == version:
            del seq[i]
    return _dump(yaml, data)


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _dump(yaml: YAML, data: object) -> str:
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
