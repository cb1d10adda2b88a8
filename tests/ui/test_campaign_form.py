"""The campaign form's handlers, through Reflex's real event processor on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain.accounts import end_all_sessions
from viralshorts.domain.rendering.looks import LOOKS
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.integrations.services import get_services
from viralshorts.models import Campaign
from viralshorts.ui import guards
from viralshorts.ui.campaign_form import CampaignFormState, edit_campaign_page, new_campaign_page

NEW = "/app/campaigns/new"


async def _filled_form(tab) -> None:
    await tab.send(CampaignFormState, "load_new", NEW)
    await tab.send(CampaignFormState, "set_field", NEW, field="name", value="Owl facts")
    await tab.send(CampaignFormState, "set_field", NEW, field="niche", value="owls at night")


async def test_a_campaign_is_created_and_loaded_again(session) -> None:
    user_id, cookie = signed_in_cookie(session, "form@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        await tab.send(CampaignFormState, "toggle_day", NEW, day=2, checked=True)
        await tab.send(CampaignFormState, "set_field", NEW, field="times_text", value="9:00")
        sent = await tab.send(CampaignFormState, "save", NEW, _form={})
        campaign = session.exec(select(Campaign).where(Campaign.user_id == user_id)).one()
        assert "Campaign created." in sent and f"/app/campaigns/{campaign.id}" in sent
        path = f"/app/campaigns/{campaign.id}"
        await tab.send(CampaignFormState, "load_existing", path)
        form = await tab.state(CampaignFormState)
        assert (form.editing_id, form.name, form.days, form.times_text) == (
            campaign.id,
            "Owl facts",
            [2],
            "09:00",
        )


@pytest.mark.parametrize(
    ("handler", "payload"),
    [
        ("toggle_day", {"day": "x", "checked": True}),
        ("toggle_day", {"day": 9, "checked": True}),
        ("toggle_day", {"day": "²", "checked": True}),
        ("toggle_day", {"day": 1, "checked": "yes"}),
        ("toggle_platform", {"platform": "myspace", "checked": True}),
        ("toggle_platform", {"platform": ["youtube"], "checked": True}),
        ("set_field", {"field": "editing_id", "value": "7"}),
        ("set_field", {"field": "name", "value": {"a": 1}}),
        ("set_archived", {"archived": "true"}),
    ],
)
async def test_forged_arguments_get_a_message_not_a_traceback(session, handler, payload) -> None:
    _, cookie = signed_in_cookie(session, "forger@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(CampaignFormState, "load_new", NEW)
        sent = await tab.send(CampaignFormState, handler, NEW, **payload)
        form = await tab.state(CampaignFormState)
        assert guards.BAD_REQUEST in sent
        assert (form.days, form.platforms, form.editing_id, form.name) == ([], [], 0, "")


async def test_someone_elses_campaign_looks_missing_and_cannot_be_saved(session) -> None:
    owner, _ = signed_in_cookie(session, "owner@example.com")
    campaign = Campaign(
        workspace_id=personal_workspace_id(session, owner), user_id=owner, name="Mine", niche="mine"
    )
    session.add(campaign)
    session.commit()
    _, cookie = signed_in_cookie(session, "intruder@example.com")
    async with open_tab(cookie) as tab:
        for path in (
            f"/app/campaigns/{campaign.id}",
            "/app/campaigns/99999999999",
            "/app/campaigns/x",
        ):
            await tab.send(CampaignFormState, "load_existing", path)
            form = await tab.state(CampaignFormState)
            assert (form.not_found, form.loaded, form.name) == (True, True, "")


async def test_a_session_ended_elsewhere_is_sent_to_sign_in(session) -> None:
    user_id, cookie = signed_in_cookie(session, "leaver@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        # "Sign out everywhere" from another browser
        end_all_sessions(session, user_id, sessions=get_services().sessions)
        session.commit()
        sent = await tab.send(CampaignFormState, "save", NEW, _form={})
        assert "/sign-in" in sent
    assert session.exec(select(Campaign)).all() == []


async def test_what_this_site_cannot_do_yet_is_marked_and_stock_is_refused(
    session, monkeypatch
) -> None:
    # A site without eSpeak NG has no voice for Spanish: the language is offered but marked.
    monkeypatch.delitem(get_services().speech, "espeak", raising=False)
    _, cookie = signed_in_cookie(session, "stock@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        form = await tab.state(CampaignFormState)
        stock = next(o for o in form.backgrounds if o["value"] == "stock")
        assert stock == {
            "value": "stock",
            "label": "Stock footage (not available on this site yet)",
            "disabled": "true",
        }
        assert not form.stock_enabled
        languages = {o["value"]: o for o in form.languages}
        assert "disabled" not in languages["en"]
        assert languages["es"]["disabled"] == "true"
        assert "not turned on yet" in languages["es"]["label"]
        await tab.send(CampaignFormState, "set_field", NEW, field="look", value="stock")
        await tab.send(CampaignFormState, "save", NEW, _form={})
        form = await tab.state(CampaignFormState)
        assert "not available on this site yet" in form.errors["look"]
    assert session.exec(select(Campaign)).all() == []


def test_the_pages_compile() -> None:
    for page in (new_campaign_page, edit_campaign_page):
        compiled = str(page())
        assert "campaign-look" in compiled and "campaign-palette" in compiled


def _values(choices: list) -> list[str]:
    return [choice["value"] for choice in choices]


async def test_the_voices_are_the_ones_that_speak_the_language_and_work_here(session) -> None:
    _, cookie = signed_in_cookie(session, "voices@example.com")
    async with open_tab(cookie) as tab:
        await tab.send(CampaignFormState, "load_new", NEW)
        form = await tab.state(CampaignFormState)
        assert (form.language, form.voice, _values(form.voices)) == (
            "en",
            "piper:joe",
            ["piper:joe"],
        )
        assert not get_services().settings.openai_enabled  # so no OpenAI voice is offered
        if "espeak" not in get_services().speech:
            pytest.skip("./dev installs espeak-ng")
        await tab.send(CampaignFormState, "set_field", NEW, field="language", value="es")
        form = await tab.state(CampaignFormState)
        assert (form.voice, _values(form.voices)) == ("espeak:es", ["espeak:es", "espeak:es-419"])
        assert all("basic offline voice" in choice["label"] for choice in form.voices)
        await tab.send(CampaignFormState, "set_field", NEW, field="language", value="en")
        form = await tab.state(CampaignFormState)
        assert form.voice == "piper:joe"


async def test_a_look_is_picked_saved_and_loaded_again(session) -> None:
    user_id, cookie = signed_in_cookie(session, "look@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        form = await tab.state(CampaignFormState)
        assert _values(form.palettes) == ["auto", *LOOKS]
        assert form.palette == "auto"
        await tab.send(CampaignFormState, "set_field", NEW, field="palette", value="ocean")
        await tab.send(CampaignFormState, "save", NEW, _form={})
        campaign = session.exec(select(Campaign).where(Campaign.user_id == user_id)).one()
        assert campaign.palette == "ocean"
        await tab.send(CampaignFormState, "load_existing", f"/app/campaigns/{campaign.id}")
        form = await tab.state(CampaignFormState)
        assert (form.palette, form.editing_id) == ("ocean", campaign.id)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("palette", "rainbow", "Pick one of the listed looks."),
        ("voice", "openai:alloy", "OpenAI voices need OpenAI to be configured"),
        ("voice", "piper:nobody", "Pick one of the listed voices."),
        ("language", "xx", "Pick one of the supported languages."),
    ],
)
async def test_forged_choices_are_refused_with_a_message_and_nothing_is_stored(
    session, field: str, value: str, message: str
) -> None:
    _, cookie = signed_in_cookie(session, f"forged-{field}@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        await tab.send(CampaignFormState, "set_field", NEW, field=field, value=value)
        if field == "language":
            await tab.send(CampaignFormState, "set_field", NEW, field="voice", value="piper:joe")
        sent = await tab.send(CampaignFormState, "save", NEW, _form={})
        form = await tab.state(CampaignFormState)
        assert "Please fix the highlighted fields." in sent
        assert message in form.errors[field]
    assert session.exec(select(Campaign)).all() == []


async def test_a_voice_that_does_not_speak_the_language_is_refused(session) -> None:
    if "espeak" not in get_services().speech:
        pytest.skip("./dev installs espeak-ng")
    _, cookie = signed_in_cookie(session, "mismatch@example.com")
    async with open_tab(cookie) as tab:
        await _filled_form(tab)
        await tab.send(CampaignFormState, "set_field", NEW, field="language", value="es")
        await tab.send(CampaignFormState, "set_field", NEW, field="voice", value="piper:joe")
        await tab.send(CampaignFormState, "save", NEW, _form={})
        form = await tab.state(CampaignFormState)
        assert form.errors == {"voice": "Joe does not speak Spanish; pick a voice that does."}
    assert session.exec(select(Campaign)).all() == []
