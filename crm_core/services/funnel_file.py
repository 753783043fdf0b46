"""The funnel file (`kanbot pipeline show` prints it, `apply` reads it): one pipeline, or several.

Today's one-pipeline file (``pipeline:`` and ``stages:`` at the top) describes the default pipeline;
a file with a ``pipelines:`` list describes every pipeline, in order, one of them ``default: true``.
Keys the funnel does not know (``fields:``, read elsewhere) are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from crm_core.domain.durations import format_duration, parse_duration
from crm_core.domain.errors import InvalidInput
from crm_core.domain.funnel import Pipeline, StageKind, StageSpec, check_stage_specs
from crm_core.domain.phones import try_e164

DEFAULT_PIPELINE_NAME = "Sales"


@dataclass(frozen=True, slots=True)
class FunnelSpec:
    """One pipeline of a funnel file: its stages in order, where removed stages' deals go, the DIDs
    whose calls open deals in it (and, in a one-pipeline file, the lost reasons)."""

    name: str
    stages: list[StageSpec]
    move_deals: dict[str, str] = field(default_factory=dict)
    lost_reasons: list[str] | None = None
    is_default: bool = True
    numbers: list[str] = field(default_factory=list)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class FunnelsSpec:
    """A funnel file, read: its pipelines in order (exactly one the default), where the deals of a
    stored pipeline the file leaves out go (name → "Pipeline" or "Pipeline/Stage"), the lost reasons.
    ``single``: today's one-pipeline file, which describes the default pipeline."""

    pipelines: list[FunnelSpec]
    move_pipelines: dict[str, str] = field(default_factory=dict)
    lost_reasons: list[str] | None = None
    single: bool = False


def funnel_spec_from_document(doc: Any, *, where: str = "") -> FunnelSpec:
    """Read one pipeline (parsed YAML), refusing anything malformed with the field it concerns;
    ``where`` (" of pipeline 'X'") is added to the fields named when it is one of several."""
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), list):
        raise InvalidInput(
            "funnel file" + where, "stages", detail="a mapping with a `stages:` list is required"
        )
    specs = [_stage_spec(item, index, where) for index, item in enumerate(doc["stages"], start=1)]
    moves = doc.get("move_deals") or {}
    if not isinstance(moves, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in moves.items()
    ):
        raise InvalidInput(
            "move_deals" + where, moves, detail="a mapping of removed stage name to the stage its deals go to"
        )
    reasons = _lost_reasons(doc.get("lost_reasons"))
    try:
        check_stage_specs(specs)
    except InvalidInput as error:
        raise InvalidInput(error.field + where, error.value, detail=error.why_text) from None
    name = doc.get("pipeline")
    name = DEFAULT_PIPELINE_NAME if name is None else name
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 64 or "/" in name:
        raise InvalidInput("pipeline" + where, name, detail="a name of 1 to 64 characters, without '/'")
    is_default = doc.get("default", False)
    if not isinstance(is_default, bool):
        raise InvalidInput("default" + where, is_default, detail="true or false")
    pipeline_id = doc.get("id")
    if pipeline_id is not None and (not isinstance(pipeline_id, int) or isinstance(pipeline_id, bool)):
        raise InvalidInput("id" + where, pipeline_id, detail="the pipeline's id as `show` prints it")
    return FunnelSpec(
        name=name.strip(),
        stages=specs,
        move_deals=dict(moves),
        lost_reasons=reasons,
        is_default=is_default,
        numbers=_numbers(doc.get("numbers"), where),
        id=pipeline_id,
    )


def funnels_spec_from_document(doc: Any) -> FunnelsSpec:
    """Read a funnel file of one pipeline or several, refusing anything malformed with its field."""
    if not isinstance(doc, dict) or "pipelines" not in doc:
        one = funnel_spec_from_document(doc)
        return FunnelsSpec(
            [replace(one, is_default=True)],
            _move_pipelines(doc.get("move_pipelines")),
            one.lost_reasons,
            single=True,
        )
    if "stages" in doc:
        raise InvalidInput(
            "funnel file", "stages", detail="either a `pipelines:` list or a top-level `stages:`, not both"
        )
    items = doc["pipelines"]
    if not isinstance(items, list) or not items:
        raise InvalidInput("pipelines", items, detail="a non-empty list of pipelines")
    pipelines = [_pipeline_spec(item, index) for index, item in enumerate(items, start=1)]
    if len(pipelines) == 1 and not pipelines[0].is_default:
        pipelines[0] = replace(pipelines[0], is_default=True)
    defaults = [p.name for p in pipelines if p.is_default]
    if len(defaults) != 1:
        raise InvalidInput("default", defaults, detail="exactly one pipeline is `default: true`")
    _check_unique([p.name.casefold() for p in pipelines], "pipeline", "names must be unique")
    _check_unique(
        [n for p in pipelines for n in p.numbers], "numbers", "a number opens deals in one pipeline"
    )
    ids = [p.id for p in pipelines if p.id is not None]
    _check_unique(ids, "id", "two pipelines of the file have the same id")
    moves = _move_pipelines(doc.get("move_pipelines"))
    return FunnelsSpec(pipelines, moves, _lost_reasons(doc.get("lost_reasons")))


def _move_pipelines(moves: Any) -> dict[str, str]:
    moves = moves or {}
    if not isinstance(moves, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in moves.items()
    ):
        raise InvalidInput(
            "move_pipelines",
            moves,
            detail='a mapping of removed pipeline name to "Pipeline" or "Pipeline/Stage" its deals go to',
        )
    return dict(moves)


def _pipeline_spec(item: Any, index: int) -> FunnelSpec:
    name = item.get("pipeline") if isinstance(item, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"pipeline #{index}", item, detail="each pipeline needs a `pipeline:` name")
    where = f" of pipeline {name.strip()!r}"
    if "lost_reasons" in item:
        raise InvalidInput(
            "lost_reasons" + where,
            item["lost_reasons"],
            detail="lost reasons are the same in every pipeline: list them at the top level",
        )
    return funnel_spec_from_document(item, where=where)


def _stage_spec(item: Any, index: int, where: str) -> StageSpec:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise InvalidInput(f"stage #{index}{where}", item, detail="each stage needs a `name:`")
    try:
        kind = StageKind(str(item.get("kind", "open")).lower())
    except ValueError:
        raise InvalidInput(
            f"kind of stage {item['name']!r}{where}", item.get("kind"), detail="inbox, open, won or lost"
        ) from None
    probability = item.get("probability", 0)
    if not isinstance(probability, int) or isinstance(probability, bool):
        raise InvalidInput(
            f"probability of stage {item['name']!r}{where}", probability, detail="a whole number 0-100"
        )
    stage_id = item.get("id")
    if stage_id is not None and (not isinstance(stage_id, int) or isinstance(stage_id, bool)):
        raise InvalidInput(f"id of stage {item['name']!r}{where}", stage_id)
    return StageSpec(
        name=item["name"].strip(),
        kind=kind,
        follow_up_after=parse_duration(item.get("follow_up")),
        playbook=str(item.get("playbook") or ""),
        probability=probability,
        id=stage_id,
    )


def _lost_reasons(reasons: Any) -> list[str] | None:
    if reasons is not None and (
        not isinstance(reasons, list)
        or not reasons
        or not all(isinstance(r, str) and 0 < len(r.strip()) <= 100 for r in reasons)
    ):
        raise InvalidInput(
            "lost_reasons", reasons, detail="a non-empty list of texts of at most 100 characters"
        )
    return [r.strip() for r in reasons] if reasons else None


def _numbers(numbers: Any, where: str) -> list[str]:
    """The DIDs, each in E.164 ("+74951230000")."""
    if numbers is None:
        return []
    if not isinstance(numbers, list):
        raise InvalidInput(
            "numbers" + where, numbers, detail='a list of phone numbers such as "+74951230000"'
        )
    found = []
    for number in numbers:
        e164 = (
            try_e164(number, region="ZZ") if isinstance(number, str) and number.strip()[:1] == "+" else None
        )
        if e164 is None:
            raise InvalidInput(
                "numbers" + where, number, detail='a phone number in E.164, such as "+74951230000"'
            )
        found.append(e164)
    _check_unique(found, "numbers" + where, "a number is listed once")
    return found


def _check_unique(values: list[Any], field_name: str, why: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise InvalidInput(field_name, value, detail=why)
        seen.add(value)


def _stages_document(pipeline: Pipeline) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind.value,
            "follow_up": format_duration(s.follow_up_after),
            "playbook": s.playbook,
            "probability": s.probability,
        }
        for s in pipeline.stages
    ]


def funnel_document(pipeline: Pipeline, reasons: list[str]) -> dict[str, Any]:
    """One pipeline as today's one-pipeline file, which `kanbot pipeline apply` reads back unchanged."""
    document: dict[str, Any] = {"pipeline": pipeline.name}
    if pipeline.numbers:
        document["numbers"] = list(pipeline.numbers)
    return document | {"stages": _stages_document(pipeline), "lost_reasons": reasons}


def funnels_document(pipelines: list[Pipeline], reasons: list[str]) -> dict[str, Any]:
    """The funnel file: the one-pipeline form while there is one pipeline, else the ``pipelines:``
    list (the default first); `kanbot pipeline apply` reads either back unchanged."""
    if len(pipelines) == 1:
        return funnel_document(pipelines[0], reasons)
    items = []
    for pipeline in pipelines:
        item: dict[str, Any] = {"pipeline": pipeline.name, "id": pipeline.id}
        if pipeline.is_default:
            item["default"] = True
        if pipeline.numbers:
            item["numbers"] = list(pipeline.numbers)
        items.append(item | {"stages": _stages_document(pipeline)})
    return {"pipelines": items, "lost_reasons": reasons}
