"""Errors carry a stable code and the values their message was built from."""

import inspect
import re
from types import ModuleType

import pytest

from viralshorts import errors
from viralshorts.errors import RateLimitedError, ValidationError, ViralShortsError

SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def error_classes(module: ModuleType) -> list[type[ViralShortsError]]:
    return [
        c
        for c in vars(module).values()
        if inspect.isclass(c) and issubclass(c, module.ViralShortsError)
    ]


def default_code_problems(module: ModuleType) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for cls in error_classes(module):
        code = cls.__dict__.get("default_code")
        if code is None:
            problems.append(f"{cls.__name__} inherits its code")
        elif not SNAKE_CASE.fullmatch(code):
            problems.append(f"{cls.__name__}.default_code {code!r} is not snake_case")
        elif code in seen:
            problems.append(f"{cls.__name__} and {seen[code]} share {code!r}")
        else:
            seen[code] = cls.__name__
    return problems


def test_every_error_class_has_its_own_snake_case_code() -> None:
    assert len(error_classes(errors)) > 5
    assert default_code_problems(errors) == []


@pytest.mark.parametrize("cls", error_classes(errors), ids=lambda c: c.__name__)
def test_an_error_reports_its_default_code(cls: type[ViralShortsError]) -> None:
    if cls is ValidationError:
        error = cls({"email": "Enter an email."})
    elif cls is RateLimitedError:
        error = cls(5)
    elif cls is errors.PlatformRateLimitedError:
        error = cls("Something a person reads.", retry_after_seconds=30)
        assert error.retry_after_seconds == 30
    else:
        error = cls("Something a person reads.")
    assert error.code == cls.default_code
    assert isinstance(error.params, dict)


def test_a_raise_site_may_pass_a_precise_code_and_params() -> None:
    error = errors.NotFoundError("No such voice.", code="voice_unknown", params={"voice": "x"})
    assert (error.code, error.params, error.message) == (
        "voice_unknown",
        {"voice": "x"},
        "No such voice.",
    )


def test_validation_error_carries_a_code_per_field() -> None:
    error = ValidationError(
        {"email": "Enter an email.", "password": "At least 10 characters."},
        field_codes={"password": "too_short"},
        params={"min_length": 10},
    )
    assert error.code == "validation"
    assert error.field_codes == {"email": "invalid", "password": "too_short"}
    assert error.params == {"min_length": 10}
    assert error.field_errors["password"] == "At least 10 characters."


def test_rate_limited_error_carries_retry_after_in_its_params() -> None:
    error = RateLimitedError(42)
    assert (error.code, error.params, error.retry_after) == (
        "rate_limited",
        {"retry_after": 42},
        42,
    )
    assert "42" in error.message
    assert RateLimitedError(3, code="sign_in_limited").code == "sign_in_limited"
