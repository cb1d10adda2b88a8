"""Cards drawn by libass in the captions pass: the hook card, typographic cards, thumbnail titles.

Text is wrapped here (``\\N``) to a character budget measured on the caption font (about 0.42 em
per capital), so the box behind it can be sized without measuring glyphs. Boxes are rounded
rectangles drawn as ASS vector shapes; cards enter with the video's entrance (pop, slide, float).
"""

from __future__ import annotations

from viralshorts.domain.rendering.captions import FONT_FAMILY, ass_time, escape_ass
from viralshorts.domain.rendering.looks import Look, ass_colour
from viralshorts.domain.rendering.scenes import VISUAL_CENTRE, LineVisual

EM_PER_CHAR = 0.42
HOOK_SIZE = 118
HOOK_BOX_WIDTH = 940
CARD_BOX = (900, 600)
TITLE_TALL_SIZE = 150
TITLE_WIDE_SIZE = 104
ENTRANCE_MS = 320


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
    """The ``[V4+ Styles]`` lines the cards use (added to the captions' header)."""
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


def _entrance(kind: str, centre: tuple[int, int], side: int) -> str:
    """Override tags placing an element at ``centre`` and animating its entrance."""
    x, y = centre
    if kind == "slide":
        return f"\\an5\\move({x + side * 1100},{y},{x},{y},0,{ENTRANCE_MS})"
    if kind == "float":
        return f"\\an5\\move({x},{y + 150},{x},{y},0,{ENTRANCE_MS + 120})\\fad(260,0)"
    return (
        f"\\an5\\pos({x},{y})\\fscx35\\fscy35\\t(0,{ENTRANCE_MS - 120},\\fscx108\\fscy108)"
        f"\\t({ENTRANCE_MS - 120},{ENTRANCE_MS},\\fscx100\\fscy100)"
    )


def _event(start: float, end: float, style: str, tags: str, text: str) -> str:
    return f"Dialogue: 0,{ass_time(start)},{ass_time(end)},{style},,0,0,0,,{{{tags}}}{text}"


def hook_card_events(visual: LineVisual, entrance: str) -> list[str]:
    """The hook in large type on a rounded card, for the hook line's time."""
    per_line = int((HOOK_BOX_WIDTH - 80) / (HOOK_SIZE * EM_PER_CHAR))
    lines = wrap(visual.text.upper(), per_line)
    height = round(len(lines) * HOOK_SIZE * 1.02 + 90)
    tags = _entrance(entrance, VISUAL_CENTRE, 1)
    box = f"{tags}\\p1"
    text = "\\N".join(escape_ass(line) for line in lines)
    return [
        _event(visual.start, visual.end, "Box", box, rounded_box(HOOK_BOX_WIDTH, height, 48)),
        _event(visual.start, visual.end, "Hook", tags, text),
    ]


def card_size(text: str) -> int:
    """The font size that fits ``text`` on one line of the typographic card (capitals about
    half an em wide in this font; a digit or two fills half the card's height)."""
    width = CARD_BOX[0] - 100
    return max(90, min(560, int(width / (0.5 * max(len(text), 1)))))


def word_card_events(visual: LineVisual, entrance: str, side: int) -> list[str]:
    """A line's key number or word, very large on a card (a line no picture matched)."""
    text = visual.text.upper()
    tags = _entrance(entrance, VISUAL_CENTRE, side)
    size = card_size(text)
    return [
        _event(visual.start, visual.end, "Box", f"{tags}\\p1", rounded_box(*CARD_BOX, 64)),
        _event(visual.start, visual.end, "Card", f"{tags}\\fs{size}", escape_ass(text)),
    ]


def card_events(visuals: list[LineVisual], entrance: str) -> list[str]:
    """Events for every hook and typographic card of the video."""
    events: list[str] = []
    for n, visual in enumerate(visuals):
        if visual.kind == "hook":
            events += hook_card_events(visual, entrance)
        elif visual.kind == "card":
            events += word_card_events(visual, entrance, 1 if n % 2 == 0 else -1)
    return events


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
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Title,{FONT_FAMILY},{size},&H00FFFFFF,{accent},&H00101010,&H80000000,-1,0,0,0,"
        f"100,100,0,0,1,{max(6, size // 14)},{max(3, size // 30)},5,0,0,0,1",
        "", "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]  # fmt: skip
    first = f"{{\\c{accent}}}" if len(lines) > 1 else ""
    body = text.replace("\\N", "\\N{\\r}", 1) if first else text
    event = f"Dialogue: 0,0:00:00.00,9:00:00.00,Title,,0,0,0,,{{{tags}}}{first}{body}"
    return "\n".join([*header, event]) + "\n"
