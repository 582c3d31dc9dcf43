"""Callback data comes from the client and can be anything: unpack never raises, and
reads only ASCII digits as numbers (``str.isdigit`` also takes "²" or "٣", which ``int``
then refuses or reads as another number)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.collect.buttons import AddBreakdown, Back, Choice, Edit, Reason
from conversations.explain.buttons import More
from conversations.kit.buttons import _REGISTRY, Button, Stamp, pack, unpack

REAL = [
    pack(Choice("OD-07", 0, 1), Stamp(1, 12)),
    pack(Reason("TF-02", 3, "0a1b2c3d"), Stamp(2, 345)),
    pack(Back("TF-03", 2), Stamp(1, 9)),
    pack(Edit("TF-10", 1)),
    pack(More("WT-01", 2)),
    pack(AddBreakdown("TF-03", 0)),
]
NON_ASCII_DIGITS = ["²", "³", "¹", "٣", "۳", "३", "３", "𝟑", "⑶", "Ⅲ"]


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=64))
def test_unpack_never_raises_on_any_text(data):
    pressed = unpack(data)
    assert pressed is None or isinstance(pressed.button, Button)


pieces = st.text(alphabet="0123456789²٣۳३３.-_:@abTF" + "".join(NON_ASCII_DIGITS), max_size=12)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(_REGISTRY)), st.lists(pieces, max_size=5), st.one_of(st.none(), pieces))
def test_unpack_never_raises_on_data_shaped_like_a_button(prefix, fields, stamp):
    data = ":".join([prefix, *fields]) + (f"@{stamp}" if stamp is not None else "")
    pressed = unpack(data)
    if pressed is not None:
        assert isinstance(pressed.button, _REGISTRY[prefix])
        assert data.isascii()  # whatever was read, was read from ASCII only
        if pressed.stamp is not None:
            assert pressed.stamp.cycle >= 0 and pressed.stamp.screen >= 0


@given(st.sampled_from(REAL), st.sampled_from(NON_ASCII_DIGITS), st.data())
def test_a_non_ascii_digit_in_a_number_is_refused(data, digit, draw):
    assert unpack(data) is not None
    positions = [i for i, ch in enumerate(data) if ch.isdigit() and _in_a_number(data, i)]
    assert positions, data
    i = draw.draw(st.sampled_from(positions))
    forged = data[:i] + digit + data[i + 1 :]
    assert unpack(forged) is None, forged


def _in_a_number(data: str, i: int) -> bool:
    """True if the character at `i` is part of an int field or of the stamp (not of an id
    like "TF-02" or a revision, which are text)."""
    body = data.partition("@")[0]
    if i > len(body):
        return True
    start = body.rfind(":", 0, i) + 1
    end = body.find(":", i)
    field = body[start : end if end != -1 else len(body)]
    return field.isdigit() and start > 0


def test_the_real_buttons_round_trip():
    for data in REAL:
        pressed = unpack(data)
        assert pressed is not None
        assert pack(pressed.button, pressed.stamp) == data
