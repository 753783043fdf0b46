"""The demo team's own field: the customer's city, so that the funnel groups by it (`--group-by city`)."""

from __future__ import annotations

from crm_core.domain.fields import FieldDef, FieldEntity, FieldsSpec, FieldType

CITIES = {  # a customer's phone region → their city
    "dubai": "Dubai",
    "abu_dhabi": "Abu Dhabi",
    "moscow": "Moscow",
    "spb": "Saint Petersburg",
    "london": "London",
    "manchester": "Manchester",
}

DEMO_FIELDS = FieldsSpec(
    [
        FieldDef(
            key="city",
            entity=FieldEntity.DEAL,
            type=FieldType.CHOICE,
            names={"en": "City", "ru": "Город", "ar": "المدينة"},
            choices=tuple(CITIES.values()),
        )
    ]
)
