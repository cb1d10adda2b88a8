"""Cards drawn by libass: the hook card, typographic cards, thumbnail titles.

Text is wrapped here (``\\N``) to a character budget measured on the caption font (about 0.42 em
per capital), so the box behind it can be sized without measuring glyphs. Boxes are rounded
rectangles drawn as ASS vector shapes. A scene card is drawn once, still, to a picture of its
own (``RenderPlan.cards_ass``: card ``k`` during second ``k``), which the render pass lays over
like an illustration, entrance (pop, slide, float) included.
"""

from __future__ import annotations

from viralshorts.domain.rendering.captions import (
    EVENT_FORMAT,
    FONT_FAMILY,
    STYLE_FORMAT,
    ass_time,
    escape_ass,
)
from viralshorts.domain.rendering.looks import Look, ass_colour
from viralshorts.domain.rendering.scenes import VISUAL_CENTRE, LineVisual
from viralshorts.integrations.ports import Card, card_canvas

EM_PER_CHAR = 0.42
HOOK_SIZE = 118
HOOK_BOX_WIDTH = 940
CARD_BOX = (900, 600)
CARD_MARGIN = 4  # around the box in the card's picture: its anti-aliased edge
TITLE_TALL_SIZE = 150
TITLE_WIDE_SIZE = 104


def wrap(text: str, max_chars: int) -> list[str]:
    """Words of ``text`` in lines of at most ``max_chars`` (a longer word gets its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def rounded_box(width: int, height: int, radius: int) -> str:
    """An ASS drawing (``\\p1`` units) of a ``width`` x ``height`` rectangle, corners rounded."""
    w, h, r = width, height, min(radius, width // 2, height // 2)
    return (
        f"m {r} 0 l {w - r} 0 b {w} 0 {w} 0 {w} {r} l {w} {h - r} b {w} {h} {w} {h} {w - r} {h} "
        f"l {r} {h} b 0 {h} 0 {h} 0 {h - r} l 0 {r} b 0 0 0 0 {r} 0"
    )


def card_styles(look: Look) -> list[str]:
    """The ``[V4+ Styles]`` lines the cards use."""
    text, outline = "&H00FFFFFF", "&H00101010"
    shared = "0,0,0,100,100,0,0,1"
    return [
        f"Style: Hook,{FONT_FAMILY},{HOOK_SIZE},{text},{text},{outline},&H00000000,-1,{shared},"
        "0,0,5,0,0,0,1",
        f"Style: Card,{FONT_FAMILY},300,{ass_colour(look.accent)},{text},{outline},&H00000000,"
        f"-1,{shared},8,0,5,0,0,0,1",
        f"Style: Box,{FONT_FAMILY},20,{ass_colour(look.card, 0x30)},{text},{outline},"
        f"&H00000000,0,{shared},0,0,5,0,0,0,1",
    ]


def _event(second: int, style: str, tags: str, text: str) -> str:
    start, end = ass_time(second), ass_time(second + 1)
    return f"Dialogue: 0,{start},{end},{style},,0,0,0,,{{{tags}}}{text}"


def _hook_lines(visual: LineVisual) -> list[str]:
    return wrap(visual.text.upper(), int((HOOK_BOX_WIDTH - 80) / (HOOK_SIZE * EM_PER_CHAR)))


def hook_box_height(visual: LineVisual) -> int:
    """The hook card's height: its wrapped lines and a margin."""
    return round(len(_hook_lines(visual)) * HOOK_SIZE * 1.02 + 90)


def hook_card_events(visual: LineVisual, second: int, centre: tuple[int, int]) -> list[str]:
    """The hook in large type on a rounded card, drawn during ``second`` at ``centre``."""
    tags = f"\\an5\\pos({centre[0]},{centre[1]})"
    text = "\\N".join(escape_ass(line) for line in _hook_lines(visual))
    box = rounded_box(HOOK_BOX_WIDTH, hook_box_height(visual), 48)
    return [_event(second, "Box", f"{tags}\\p1", box), _event(second, "Hook", tags, text)]


def card_size(text: str) -> int:
    """The font size that fits ``text`` on one line of the typographic card (capitals about
    half an em wide in this font; a digit or two fills half the card's height)."""
    width = CARD_BOX[0] - 100
    return max(90, min(560, int(width / (0.5 * max(len(text), 1)))))


def word_card_events(visual: LineVisual, second: int, centre: tuple[int, int]) -> list[str]:
    """A line's key number or word, very large on a card (a line no picture matched)."""
    text = visual.text.upper()
    tags = f"\\an5\\pos({centre[0]},{centre[1]})"
    return [
        _event(second, "Box", f"{tags}\\p1", rounded_box(*CARD_BOX, 64)),
        _event(second, "Card", f"{tags}\\fs{card_size(text)}", escape_ass(text)),
    ]


def scene_cards(visuals: list[LineVisual], entrance: str) -> list[tuple[LineVisual, Card]]:
    """The hook and typographic cards of a video, each with the line it shows; slides
    alternate sides as the line's position says."""
    x, y = VISUAL_CENTRE
    found = []
    for n, visual in enumerate(visuals):
        if visual.kind not in ("hook", "card"):
            continue
        box = (HOOK_BOX_WIDTH, hook_box_height(visual)) if visual.kind == "hook" else CARD_BOX
        card = Card(
            width=box[0] + 2 * CARD_MARGIN, height=box[1] + 2 * CARD_MARGIN,
            start=visual.start, end=visual.end, centre_x=x, centre_y=y, entrance=entrance,
            side=1 if n % 2 == 0 else -1,
        )  # fmt: skip
        found.append((visual, card))
    return found


def cards_ass(visuals: list[LineVisual], entrance: str, look: Look) -> tuple[str, list[Card]]:
    """The ASS file drawing card ``k`` of the video during second ``k``, still, centred on
    the cards' canvas, and the cards (see ``Card``)."""
    found = scene_cards(visuals, entrance)
    width, height = card_canvas([card for _, card in found])
    centre = (width // 2, height // 2)
    events: list[str] = []
    for second, (visual, _) in enumerate(found):
        maker = hook_card_events if visual.kind == "hook" else word_card_events
        events += maker(visual, second, centre)
    header = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "", "[V4+ Styles]", STYLE_FORMAT,
        *card_styles(look), "", "[Events]", EVENT_FORMAT,
    ]  # fmt: skip
    return "\n".join([*header, *events]) + "\n", [card for _, card in found]


def _title_size(title: str, base: int) -> int:
    """Smaller type for a long title, so it stays within four lines."""
    return base if len(title) <= 44 else max(base * 2 // 3, round(base * (44 / len(title)) ** 0.5))


def title_ass(title: str, look: Look, *, wide: bool, with_picture: bool) -> str:
    """A whole ASS file drawing the title large for a thumbnail (1080x1920, or 1280x720)."""
    width, height = (1280, 720) if wide else (1080, 1920)
    size = _title_size(title, TITLE_WIDE_SIZE if wide else TITLE_TALL_SIZE)
    if wide and with_picture:
        room, tags = 700, f"\\an4\\pos(64,{height // 2})"
    elif wide:
        room, tags = 1120, f"\\an5\\pos({width // 2},{height // 2})"
    else:
        room = 920
        tags = f"\\an5\\pos({width // 2},{1330 if with_picture else height // 2})"
    lines = wrap(title.upper(), max(6, int(room / (size * EM_PER_CHAR))))
    accent = ass_colour(look.accent)
    text = "\\N".join(escape_ass(line) for line in lines[:5])
    header = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "", "[V4+ Styles]",
        STYLE_FORMAT,
        f"Style: Title,{FONT_FAMILY},{size},&H00FFFFFF,{accent},&H00101010,&H80000000,-1,0,0,0,"
        f"100,100,0,0,1,{max(6, size // 14)},{max(3, size // 30)},5,0,0,0,1",
        "", "[Events]", EVENT_FORMAT,
    ]  # fmt: skip
    first = f"{{\\c{accent}}}" if len(lines) > 1 else ""
    body = text.replace("\\N", "\\N{\\r}", 1) if first else text
    event = f"Dialogue: 0,0:00:00.00,9:00:00.00,Title,,0,0,0,,{{{tags}}}{first}{body}"
    return "\n".join([*header, event]) + "\n"
