"""The team's own fields: read from the funnel file's ``fields:``, shown back, applied all or nothing.

A field whose values are stored is not removed, nor changed so that its stored values no longer
read, unless the file names it in ``drop_fields:``; its values then go with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_core.domain.errors import InvalidInput
from crm_core.domain.fields import (
    KEY_PATTERN,
    LOCALES,
    MAX_CHOICES,
    MAX_NAME,
    RESERVED_KEYS,
    FieldDef,
    FieldEntity,
    FieldsSpec,
    FieldType,
    Values,
)
from crm_core.domain.users import User
from crm_core.services.base import ServiceBase, require_active, require_boss
from crm_core.services.unit_of_work import UnitOfWork

_ATTRIBUTES = {"key", "entity", "type", "names", "choices", "required_from"}


def fields_spec_from_document(doc: Any) -> FieldsSpec | None:
    """Read the ``fields:`` of a funnel document; ``None`` when it has none (the fields stay as they are)."""
    if not isinstance(doc, dict) or ("fields" not in doc and "drop_fields" not in doc):
        return None
    items = doc.get("fields") or []
    if not isinstance(items, list):
        raise InvalidInput("fields", items, detail="a list of fields, each with a `key:` and a `type:`")
    stage_names = _stage_names(doc)
    defs: list[FieldDef] = []
    for index, item in enumerate(items, start=1):
        definition = _field(item, index, stage_names)
        if any(d.key == definition.key for d in defs):
            raise InvalidInput("fields", definition.key, detail="two fields have this key")
        defs.append(definition)
    drops = doc.get("drop_fields") or []
    if not isinstance(drops, list) or not all(isinstance(k, str) for k in drops):
        raise InvalidInput("drop_fields", drops, detail="a list of field keys whose values may be deleted")
    return FieldsSpec(defs, frozenset(k.strip() for k in drops))


def _stage_names(doc: dict[str, Any]) -> set[str] | None:
    """The stage names the file gives (every pipeline's), case-folded; None when it gives none."""
    lists = [doc.get("stages")] + [p.get("stages") for p in doc.get("pipelines") or [] if isinstance(p, dict)]
    names = {
        str(s["name"]).strip().casefold()
        for stages in lists
        if isinstance(stages, list)
        for s in stages
        if isinstance(s, dict) and s.get("name")
    }
    return names or None


def _field(item: Any, index: int, stage_names: set[str] | None) -> FieldDef:
    if not isinstance(item, dict) or not isinstance(item.get("key"), str):
        raise InvalidInput(f"field #{index}", item, detail="each field needs a `key:`")
    key = item["key"].strip()
    if key in RESERVED_KEYS:
        raise InvalidInput(f"field #{index}", key, detail="a key of the deal's own; choose another")
    if not KEY_PATTERN.match(key):
        raise InvalidInput(
            f"field #{index}",
            key,
            detail="a key is a lowercase letter, then letters, digits or _ (40 at most)",
        )
    unknown = set(item) - _ATTRIBUTES
    if unknown:
        raise InvalidInput(f"field {key!r}", sorted(unknown), detail="unknown attributes")
    try:
        entity = FieldEntity(str(item.get("entity", "deal")).strip().lower())
    except ValueError:
        raise InvalidInput(f"entity of field {key!r}", item.get("entity"), detail="deal or contact") from None
    try:
        kind = FieldType(str(item.get("type", "")).strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidInput(
            f"type of field {key!r}",
            item.get("type"),
            detail="one of " + ", ".join(t.value for t in FieldType),
        ) from None
    return FieldDef(
        key=key,
        entity=entity,
        type=kind,
        names=_names(key, item.get("names")),
        choices=_choices(key, kind, item.get("choices")),
        required_from=_required_from(key, entity, item.get("required_from"), stage_names),
        position=index,
    )


def _names(key: str, names: Any) -> dict[str, str]:
    if names is None:
        return {"en": key}
    if not isinstance(names, dict) or not all(
        k in LOCALES and isinstance(v, str) and 0 < len(v.strip()) <= MAX_NAME for k, v in names.items()
    ):
        raise InvalidInput(
            f"names of field {key!r}",
            names,
            detail=f"a mapping of en, ru, ar to texts of 1-{MAX_NAME} characters",
        )
    return {k: v.strip() for k, v in names.items()}


def _choices(key: str, kind: FieldType, choices: Any) -> tuple[str, ...]:
    if kind not in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        if choices:
            raise InvalidInput(f"choices of field {key!r}", choices, detail="only a choice field has choices")
        return ()
    if (
        not isinstance(choices, list)
        or not 0 < len(choices) <= MAX_CHOICES
        or not all(isinstance(c, str | int) and 0 < len(str(c).strip()) <= MAX_NAME for c in choices)
    ):
        raise InvalidInput(
            f"choices of field {key!r}", choices, detail=f"a list of 1 to {MAX_CHOICES} short texts"
        )
    clean = tuple(str(c).strip() for c in choices)
    if any("," in c for c in clean) or len({c.casefold() for c in clean}) != len(clean):
        raise InvalidInput(
            f"choices of field {key!r}",
            choices,
            detail="choices differ (whatever the case) and hold no comma",
        )
    return clean


def _required_from(key: str, entity: FieldEntity, stage: Any, stage_names: set[str] | None) -> str | None:
    if stage is None:
        return None
    if entity is not FieldEntity.DEAL or not isinstance(stage, str) or not stage.strip():
        raise InvalidInput(
            f"required_from of field {key!r}", stage, detail="a stage name, on a deal field only"
        )
    if stage_names is not None and stage.strip().casefold() not in stage_names:
        raise InvalidInput(
            f"required_from of field {key!r}", stage, detail="no stage of that name in the file"
        )
    return stage.strip()


def fields_document(defs: list[FieldDef]) -> list[dict[str, Any]]:
    """The fields as the funnel file's ``fields:`` reads them back unchanged."""
    out = []
    for d in defs:
        item: dict[str, Any] = {
            "key": d.key,
            "entity": d.entity.value,
            "type": d.type.value,
            "names": dict(d.names),
        }
        if d.choices:
            item["choices"] = list(d.choices)
        if d.required_from:
            item["required_from"] = d.required_from
        out.append(item)
    return out


class FieldService(ServiceBase):
    """The team's field definitions: read, shown as a document, applied from a funnel file."""

    async def definitions(self) -> list[FieldDef]:
        async with self.db.uow(write=False) as uow:
            return await uow.fields.definitions()

    async def document(self, *, actor: User | None = None) -> list[dict[str, Any]]:
        if actor is not None:
            require_active(actor)
        return fields_document(await self.definitions())

    async def check(self, spec: FieldsSpec) -> None:
        """Refuse, changing nothing, what ``apply`` would refuse: call it before applying the rest."""
        async with self.db.uow(write=False) as uow:
            await self._check(uow, spec)

    async def apply(self, spec: FieldsSpec, *, actor: User | None = None) -> list[FieldDef]:
        """Make the fields look like ``spec``: all or nothing; values go only for ``drop_fields``."""
        if actor is not None:
            require_boss(actor, "configure the fields")
        async with self.db.uow() as uow:
            for entity, key in await self._check(uow, spec):
                await uow.fields.drop_values(entity, key)
            await uow.fields.replace_definitions(spec.fields)
            defs = await uow.fields.definitions()
            await uow.commit()
        return defs

    async def _check(self, uow: UnitOfWork, spec: FieldsSpec) -> list[tuple[FieldEntity, str]]:
        """The (entity, key) whose values go; ``InvalidInput`` for values the file would orphan."""
        current = {(d.entity, d.key): d for d in await uow.fields.definitions()}
        wanted = {(d.entity, d.key): d for d in spec.fields}
        drops = []
        for (entity, key), count in (await uow.fields.value_counts()).items():
            new = wanted.get((entity, key))
            old = current.get((entity, key))
            fits = new is not None and old is not None and _values_still_read(old, new)
            if fits:
                continue
            if key not in spec.drop_values:
                change = "removes" if new is None else "changes"
                raise InvalidInput(
                    "fields",
                    key,
                    detail=f"the file {change} field {key!r}, which {count} {entity.value}(s) have a "
                    f"value of; keep it, or delete those values with `drop_fields: [{key}]`",
                )
            drops.append((entity, key))
        return drops


def _values_still_read(old: FieldDef, new: FieldDef) -> bool:
    """Whether every value ``old`` could store is still a value of ``new``."""
    if old.type is not new.type:
        return False
    return set(old.choices) <= set(new.choices)


def field_values_json(defs: list[FieldDef], values: Mapping[str, Values]) -> dict[str, object]:
    """The filled fields as a deal's JSON shows them, in the file's order."""
    return {d.key: d.as_json(values[d.key]) for d in defs if values.get(d.key)}
