"""Button labels fit a phone's buttons: cut at a word's end, never inside a number or a name."""

from __future__ import annotations

from bot.core.widths import fits, pack, room, shorten, text_px, too_wide


def test_a_long_title_is_cut_after_a_whole_word() -> None:
    label = shorten("Oxford Lettings: SIP trunk, 20 channels and a second site", room(1))
    assert label.endswith("…") and fits(label)
    assert "Oxford Lettings: SIP trunk, 20 channels and a second site".startswith(label[:-1])
    assert label[:-1].split()[-1] in {"Oxford", "Lettings", "SIP", "trunk", "20", "channels", "and", "a"}


def test_a_number_is_never_cut_in_its_middle() -> None:
    label = shorten("Order 18,082.60 from 12 sites", text_px("Order 18,08"))
    assert label == "Order…"


def test_a_spaced_phone_number_is_kept_whole_or_left_out() -> None:
    text = "Call back: +7 495 824-88-61"
    assert shorten(text, text_px("Call back: +7 495 82")) == "Call back…"
    assert shorten(text, text_px(text)) == text


def test_only_a_first_word_wider_than_the_button_is_cut_where_it_must_be() -> None:
    label = shorten("Supercalifragilisticexpialidocious", room(3))
    assert label.endswith("…") and fits(label, 3)


def test_invisible_direction_marks_take_no_room() -> None:
    assert text_px("\u2068Acme\u2069") == text_px("Acme")


def test_buttons_share_a_row_only_while_every_label_shows_whole() -> None:
    en = pack([(t, t) for t in ("📝 Note", "⏰ Remind", "🏆 Won")])
    ru = pack([(t, t) for t in ("📝 Заметка", "⏰ Напомнить", "🏆 Выиграна")])
    assert en == [["📝 Note", "⏰ Remind", "🏆 Won"]]
    assert all(len(row) <= 2 for row in ru) and not too_wide(ru)


def test_a_row_never_holds_more_than_three_buttons() -> None:
    rows = pack([(str(n), n) for n in range(7)])
    assert [len(r) for r in rows] == [3, 3, 1]


def test_a_warning_sign_drawn_as_an_emoji_is_as_wide_as_one() -> None:
    assert text_px("⚠️") == text_px("⚠") == text_px("📌")  # with or without its emoji selector


# Widths Chromium draws on the emulator's 390 px screen (docs/images/measure_widths.py's page).
DRAWN = {
    "📌 Confirm the number… · ⚠️ 30 Nov, 13:00": 311.7,
    "Wayne Foods: annual support… · $28,668.00": 315.2,
    "⏳ مركز دبي الطبي: 25 سماعة… · 21,999.32 US$": 320.3,
    "✏️ Добавить пару слов": 169.7,
    "☎️ Extensions…": 112.0,
}


def test_no_label_is_measured_narrower_than_a_phone_draws_it() -> None:
    for label, drawn in DRAWN.items():
        assert drawn <= text_px(label) <= drawn * 1.1, label


def test_an_overdue_tasks_label_that_a_phone_would_cut_is_shortened_at_a_word_instead() -> None:
    when = " · ⚠️ 30 Nov, 13:00"
    head = "📌 "
    assert not fits(head + "Confirm the number…" + when)  # drawn 311.7 px: the time was cut ("13:…")
    label = head + shorten("Confirm the number of seats", room(1) - text_px(head + when)) + when
    assert label == "📌 Confirm the… · ⚠️ 30 Nov, 13:00" and fits(label)


def test_arabic_letters_take_their_joined_width() -> None:
    assert text_px("سارة العلي") < text_px("س ا ر ة ا ل ع ل ي")  # joined letters lose their tails
