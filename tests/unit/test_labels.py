"""Button labels are plain text: a name with "&", "<" or ">" reads on a button as it was typed."""

from __future__ import annotations

import pytest

from bot.core.i18n import Tr

NAME = "R&D <Sales> & Co"


@pytest.mark.parametrize("locale", ["en", "ru", "ar"])
def test_a_label_takes_a_name_with_html_characters_as_it_is(locale: str) -> None:
    label = Tr(locale).label("Nudge {name}", name=NAME)
    assert NAME in label and "&amp;" not in label and "&lt;" not in label


def test_a_message_still_escapes_the_same_name_for_telegrams_html() -> None:
    assert Tr("en")("Nudge {name}", name=NAME) == "Nudge R&amp;D &lt;Sales&gt; &amp; Co"


def test_a_counted_label_is_plain_text_in_the_readers_language() -> None:
    assert Tr("en").label_n("{n} deal", "{n} deals", 3) == "3 deals"
    assert Tr("ru").label_n("{n} deal", "{n} deals", 1) == "1 сделка"
