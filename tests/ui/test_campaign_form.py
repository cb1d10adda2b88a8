"""The campaign form's handlers, through Reflex's real event processor on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.ui.tabs import open_tab, signed_in_cookie
from viralshorts.domain.accounts import end_all_sessions
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
        assert "campaign-look" in str(page())
