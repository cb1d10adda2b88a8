"""Form controls every page shares, so the same question looks and behaves the same everywhere.

The select is the browser's own ``<select>``: it is named by its ``<label for=...>``, works with
the keyboard and phone pickers, submits with its form, and can show an option that is not
available yet as disabled (with the reason in its text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import reflex as rx

Option = dict[str, str]
UNAVAILABLE = "true"  # the value of an option's "disabled" key when it cannot be picked

SELECT_STYLE = {
    "width": "100%",
    "padding": "0.5rem",
    "border": "1px solid var(--gray-7)",
    "border_radius": "var(--radius-2)",
    "background": "var(--color-surface)",
    "color": "var(--gray-12)",
}


def options(
    labels: Mapping[str, str], unavailable: Mapping[str, str] | None = None
) -> list[Option]:
    """Select options from ``{value: label}``; ``unavailable`` maps values to why they are not.

    An unavailable option stays in the list (people see it exists) but cannot be picked; its
    text ends with the reason, e.g. "Stock footage (not available on this site yet)".
    """
    result: list[Option] = []
    for value, label in labels.items():
        reason = (unavailable or {}).get(value)
        if reason:
            result.append({"value": value, "label": f"{label} ({reason})", "disabled": UNAVAILABLE})
        else:
            result.append({"value": value, "label": label})
    return result


def _option(option: Option | rx.Var) -> rx.Component:
    if isinstance(option, dict):
        disabled: Any = option.get("disabled") == UNAVAILABLE
    else:
        disabled = option["disabled"].to(str) == UNAVAILABLE
    return rx.el.option(option["label"], value=option["value"], disabled=disabled)


def select_control(
    control_id: str,
    name: str,
    choices: list[Option] | rx.Var[list[Option]],
    value: rx.Var[str] | str,
    on_change: Callable[[Any], Any],
    *,
    invalid: rx.Var[bool] | bool = False,
    described_by: str = "",
    **props: Any,
) -> rx.Component:
    """A native ``<select>``; pair it with ``<label html_for=control_id>`` for its name.

    Args:
        control_id: The element id (the label's ``html_for``).
        name: The form field name it submits as.
        choices: Options from ``options()``, as a list or a state var holding one.
        value: The picked value.
        on_change: Called with the new value.
        invalid: Whether the field's value was refused (sets ``aria-invalid``).
        described_by: The id of the text that explains the field (its error or hint).
        **props: More element props (``style`` replaces the default look).
    """
    if isinstance(choices, list):
        items: list[rx.Component] = [_option(choice) for choice in choices]
    else:
        items = [rx.foreach(choices, _option)]
    props.setdefault("style", SELECT_STYLE)
    if described_by:
        props["aria_describedby"] = described_by
    return rx.el.select(
        *items,
        id=control_id,
        name=name,
        value=value,
        on_change=on_change,
        aria_invalid=invalid,
        **props,
    )


def labeled_input(
    field_id: str,
    label: str,
    name: str,
    *,
    input_type: str,
    error: rx.Var[str],
    autocomplete: str,
) -> rx.Component:
    """A labelled text input with its error below it (``aria-invalid`` and described by it).

    Args:
        field_id: The element id, unique on the page (two forms may share a field ``name``).
        label: What the label says.
        name: The form field name it submits as.
        input_type: ``text``, ``email``, ``password`` ...
        error: The field's error message ("" when none).
        autocomplete: The browser's autocomplete hint.
    """
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="0.9rem"),
        rx.input(
            id=field_id,
            name=name,
            type=input_type,
            auto_complete=autocomplete,
            size="3",
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field_id}-error",
        ),
        rx.cond(error != "", rx.text(error, id=f"{field_id}-error", color_scheme="red", size="2")),
        spacing="1",
        width="100%",
    )
