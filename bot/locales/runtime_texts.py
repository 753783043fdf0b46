"""Texts the chat translates but picks at run time from a table, so ``pybabel extract`` cannot see them.

Never imported: it exists only for the extraction (see ``babel.cfg``). Each list mirrors a table in
the code; ``tests/unit/test_translations.py`` fails, naming the text, when a table gains one that is
missing here. Better still, mark the text where it is written with ``N_("...")``.
"""


def N_(message: str) -> str:
    return message


# bot/core/features/card.py EDIT_FIELDS: the buttons of the card's Edit menu.
EDIT_FIELDS = [N_("Title"), N_("Amount"), N_("Contact name"), N_("Phone"), N_("Company")]

# bot/core/features/reports.py PERIODS: the report's period buttons.
PERIODS = [N_("Today"), N_("7 days"), N_("30 days"), N_("Quarter")]

# crm_core.domain.deals.Priority: shown on the card, the priority buttons and in the history.
PRIORITIES = [N_("low"), N_("normal"), N_("high")]

# crm_core.services.deal_edits.EDITABLE: the field of an edit in the deal's history ("title: A → B").
EDITED_FIELDS = [
    N_("title"),
    N_("amount"),
    N_("currency"),
    N_("contact"),
    N_("phone"),
    N_("company"),
    N_("priority"),
]
