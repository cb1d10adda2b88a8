"""Campaign rules on a real PostgreSQL database, including that users never see each other's."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from viralshorts.domain import campaigns as camp
from viralshorts.domain.campaigns import CampaignInput
from viralshorts.domain.dashboard import list_users, overview_counts
from viralshorts.domain.workspaces import personal_actor
from viralshorts.errors import NotFoundError, PermissionDeniedError, ValidationError
from viralshorts.integrations.espeak_tts import espeak_available
from viralshorts.integrations.ports import Services
from viralshorts.integrations.services import build_services
from viralshorts.models import AuditLog, Campaign, Role, Schedule, Video, VideoStatus
from viralshorts.settings import Settings


def _services(settings: Settings) -> Services:
    """What a site with ``settings`` offers (no outside service is called here)."""
    return build_services(settings)


OFFLINE = _services(Settings(openai_api_key="", pexels_api_key=""))


def make_user(session: Session, email: str, role: Role = Role.CREATOR) -> int:
    user = new_user(session, email, role=role)
    assert user.id is not None
    return user.id


def good_input(**overrides: object) -> CampaignInput:
    values: dict[str, object] = {
        "name": "Space facts",
        "niche": "astronomy facts for curious teens",
        "tone": "educational",
        "language": "en",
        "voice": "piper:joe",
        "caption_style": "karaoke",
        "look": "uploads",
        "platforms": ["tiktok", "youtube"],
        "days": [4, 0, 0],
        "times": ["18:30", "9:00"],
        "timezone": "Europe/Berlin",
    }
    values.update(overrides)
    return CampaignInput(**values)  # type: ignore[arg-type]


@pytest.fixture()
def alice(session: Session) -> int:
    return make_user(session, "alice@example.com")


@pytest.fixture()
def bob(session: Session) -> int:
    return make_user(session, "bob@example.com")


def errors_for(session: Session, user_id: int, **overrides: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        camp.create_campaign(
            session,
            actor=personal_actor(session, user_id),
            data=good_input(**overrides),
            services=OFFLINE,
        )
    return caught.value.field_errors


def test_create_stores_clean_values_schedule_and_audit(session: Session, alice: int) -> None:
    created = camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(name="  Space facts "),
        services=OFFLINE,
    )
    session.commit()
    stored = session.get(Campaign, created.id)
    assert stored is not None
    assert (stored.name, stored.caption_style, stored.look) == ("Space facts", "karaoke", "uploads")
    assert stored.default_platforms == ["youtube", "tiktok"]
    schedule = camp.get_schedule(
        session, actor=personal_actor(session, alice), campaign_id=created.id
    )
    assert schedule is not None
    assert (schedule.days, schedule.times) == ([0, 4], ["09:00", "18:30"])
    assert (schedule.timezone, schedule.platforms) == ("Europe/Berlin", ["youtube", "tiktok"])
    actions = session.exec(select(AuditLog.action).where(AuditLog.user_id == alice)).all()
    assert actions == ["campaign.create"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "x"}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"niche": "   "}, "niche"),
        ({"niche": "n" * 201}, "niche"),
        ({"tone": "sarcastic"}, "tone"),
        ({"language": "xx"}, "language"),
        ({"voice": "piper:nobody"}, "voice"),
        ({"caption_style": "comic"}, "caption_style"),
        ({"look": "ai-video"}, "look"),
        ({"platforms": ["youtube", "myspace"]}, "platforms"),
        ({"days": [7]}, "days"),
        ({"times": ["25:00"]}, "times"),
        ({"times": ["9am"]}, "times"),
        ({"times": []}, "times"),
        ({"days": [], "times": ["09:00"]}, "days"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
    ],
)
def test_each_rule_names_its_field(
    session: Session, alice: int, overrides: dict[str, object], field: str
) -> None:
    errors = errors_for(session, alice, **overrides)
    assert list(errors) == [field]
    assert len(errors[field]) > 10
    assert session.exec(select(Campaign)).all() == []


def test_several_errors_are_reported_together(session: Session, alice: int) -> None:
    errors = errors_for(session, alice, name="", niche="", tone="nope")
    assert set(errors) == {"name", "niche", "tone"}


def test_openai_voice_needs_openai_configured(session: Session, alice: int) -> None:
    errors = errors_for(session, alice, voice="openai:alloy")
    assert "OpenAI" in errors["voice"]
    configured = Settings(openai_api_key="sk-test")
    created = camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(voice="openai:alloy"),
        services=_services(configured),
    )
    assert created.voice == "openai:alloy"
    assert "openai:alloy" in camp.voice_options(_services(configured))
    assert not [v for v in camp.voice_options(OFFLINE) if v.startswith("openai:")]
    assert "piper:joe" in camp.voice_options(OFFLINE)


@pytest.mark.skipif(not espeak_available(), reason="./dev installs espeak-ng")
def test_a_spanish_campaign_takes_a_basic_espeak_voice_not_the_english_one(
    session: Session, alice: int
) -> None:
    assert "basic" in camp.voice_options(OFFLINE)["espeak:es"]
    errors = errors_for(session, alice, language="es", voice="piper:joe")
    assert errors == {"voice": "Joe does not speak Spanish; pick a voice that does."}
    errors = errors_for(session, alice, language="en", voice="espeak:fr-fr")
    assert errors == {"voice": "French does not speak English; pick a voice that does."}
    created = camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(language="es", voice="espeak:es"),
        services=OFFLINE,
    )
    assert (created.language, created.voice) == ("es", "espeak:es")


def test_without_espeak_a_language_with_no_voice_is_refused(session: Session, alice: int) -> None:
    english_only = dataclasses.replace(OFFLINE, speech={"piper": OFFLINE.speech["piper"]})
    with pytest.raises(ValidationError) as caught:
        camp.create_campaign(
            session,
            actor=personal_actor(session, alice),
            data=good_input(language="de", voice="espeak:de"),
            services=english_only,
        )
    assert caught.value.field_codes == {"voice": "voice_not_configured"}
    with pytest.raises(ValidationError) as caught:
        camp.create_campaign(
            session,
            actor=personal_actor(session, alice),
            data=good_input(language="de"),
            services=english_only,
        )
    assert caught.value.field_codes == {"language": "language_unavailable"}
    assert "Needs a voice that speaks German" in caught.value.field_errors["language"]


def test_the_look_is_one_of_the_palettes(session: Session, alice: int) -> None:
    assert errors_for(session, alice, palette="rainbow") == {
        "palette": "Pick one of the listed looks."
    }
    assert next(iter(camp.PALETTES)) == "auto" and "ocean" in camp.PALETTES
    created = camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(palette="ocean"),
        services=OFFLINE,
    )
    assert created.palette == "ocean"


def test_stock_footage_is_refused_until_pexels_is_configured(session: Session, alice: int) -> None:
    with pytest.raises(ValidationError) as caught:
        camp.create_campaign(
            session,
            actor=personal_actor(session, alice),
            data=good_input(look="stock"),
            services=OFFLINE,
        )
    assert caught.value.field_codes == {"look": "stock_unavailable"}
    assert "not available on this site yet" in caught.value.field_errors["look"]
    assert camp.unavailable_backgrounds(Settings(pexels_api_key="")) == {
        "stock": "not available on this site yet"
    }
    configured = Settings(pexels_api_key="px-test")
    assert camp.unavailable_backgrounds(configured) == {}
    created = camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(look="stock"),
        services=_services(configured),
    )
    assert created.look == "stock"


def test_every_rule_break_has_a_stable_code(session: Session, alice: int) -> None:
    with pytest.raises(ValidationError) as caught:
        camp.create_campaign(
            session,
            actor=personal_actor(session, alice),
            data=good_input(name="x", tone="nope", voice="piper:nobody", times=["9am"]),
            services=OFFLINE,
        )
    assert caught.value.field_codes == {
        "name": "length",
        "tone": "choice_unknown",
        "voice": "voice_unknown",
        "times": "time_invalid",
    }
    with pytest.raises(NotFoundError) as missing:
        camp.get_campaign(session, actor=personal_actor(session, alice), campaign_id=999)
    assert missing.value.code == "campaign_not_found"


def test_no_schedule_when_no_days_and_times(session: Session, alice: int) -> None:
    created = camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(days=[], times=[]),
        services=OFFLINE,
    )
    assert (
        camp.get_schedule(session, actor=personal_actor(session, alice), campaign_id=created.id)
        is None
    )


def test_update_replaces_fields_and_schedule(session: Session, alice: int) -> None:
    created = camp.create_campaign(
        session, actor=personal_actor(session, alice), data=good_input(), services=OFFLINE
    )
    camp.update_campaign(
        session,
        actor=personal_actor(session, alice),
        campaign_id=created.id,
        data=good_input(name="Deep space", days=[5], times=["12:00"], timezone="UTC"),
        services=OFFLINE,
    )
    session.commit()
    assert (
        camp.get_campaign(
            session, actor=personal_actor(session, alice), campaign_id=created.id
        ).name
        == "Deep space"
    )
    schedules = session.exec(select(Schedule).where(Schedule.campaign_id == created.id)).all()
    assert [(s.days, s.times, s.timezone) for s in schedules] == [([5], ["12:00"], "UTC")]
    actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["campaign.create", "campaign.update"]


def test_invalid_update_changes_nothing(session: Session, alice: int) -> None:
    created = camp.create_campaign(
        session, actor=personal_actor(session, alice), data=good_input(), services=OFFLINE
    )
    with pytest.raises(ValidationError):
        camp.update_campaign(
            session,
            actor=personal_actor(session, alice),
            campaign_id=created.id,
            data=good_input(name=""),
            services=OFFLINE,
        )
    session.expire_all()
    assert (
        camp.get_campaign(
            session, actor=personal_actor(session, alice), campaign_id=created.id
        ).name
        == "Space facts"
    )


def test_archive_hides_and_restore_brings_back(session: Session, alice: int) -> None:
    created = camp.create_campaign(
        session, actor=personal_actor(session, alice), data=good_input(), services=OFFLINE
    )
    camp.archive_campaign(session, actor=personal_actor(session, alice), campaign_id=created.id)
    assert camp.list_campaigns(session, actor=personal_actor(session, alice)) == []
    archived = camp.list_campaigns(
        session, actor=personal_actor(session, alice), include_archived=True
    )
    assert [c.id for c in archived] == [created.id]
    assert archived[0].archived_at is not None
    camp.restore_campaign(session, actor=personal_actor(session, alice), campaign_id=created.id)
    assert [c.id for c in camp.list_campaigns(session, actor=personal_actor(session, alice))] == [
        created.id
    ]
    actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["campaign.create", "campaign.archive", "campaign.restore"]


def test_search_matches_name_or_niche_any_case(session: Session, alice: int) -> None:
    camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(name="Space facts"),
        services=OFFLINE,
    )
    camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(name="Chefs", niche="Quick PASTA"),
        services=OFFLINE,
    )
    camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(name="100% real", niche="odd"),
        services=OFFLINE,
    )

    def names(term: str) -> list[str]:
        return sorted(
            c.name
            for c in camp.list_campaigns(session, actor=personal_actor(session, alice), search=term)
        )

    assert names("SPACE") == ["Space facts"]
    assert names("pasta") == ["Chefs"]
    assert names("%") == ["100% real"]
    assert names("") == ["100% real", "Chefs", "Space facts"]
    assert names("nothing-like-this") == []


def test_other_users_campaign_is_not_found_for_every_use(
    session: Session, alice: int, bob: int
) -> None:
    mine = camp.create_campaign(
        session, actor=personal_actor(session, alice), data=good_input(), services=OFFLINE
    )
    for call in (
        lambda: camp.get_campaign(session, actor=personal_actor(session, bob), campaign_id=mine.id),
        lambda: camp.get_schedule(session, actor=personal_actor(session, bob), campaign_id=mine.id),
        lambda: camp.update_campaign(
            session,
            actor=personal_actor(session, bob),
            campaign_id=mine.id,
            data=good_input(name="Stolen"),
            services=OFFLINE,
        ),
        lambda: camp.archive_campaign(
            session, actor=personal_actor(session, bob), campaign_id=mine.id
        ),
        lambda: camp.restore_campaign(
            session, actor=personal_actor(session, bob), campaign_id=mine.id
        ),
    ):
        with pytest.raises(NotFoundError) as caught:
            call()
        assert str(caught.value) == "Campaign not found."
    with pytest.raises(NotFoundError) as missing:
        camp.get_campaign(session, actor=personal_actor(session, bob), campaign_id=mine.id + 1000)
    assert str(missing.value) == "Campaign not found."
    assert (
        camp.list_campaigns(session, actor=personal_actor(session, bob), include_archived=True)
        == []
    )
    session.expire_all()
    still = camp.get_campaign(session, actor=personal_actor(session, alice), campaign_id=mine.id)
    assert (still.name, still.archived_at) == ("Space facts", None)


def test_overview_counts_come_from_the_database(session: Session, alice: int, bob: int) -> None:
    first = camp.create_campaign(
        session, actor=personal_actor(session, alice), data=good_input(), services=OFFLINE
    )
    second = camp.create_campaign(
        session,
        actor=personal_actor(session, alice),
        data=good_input(name="Other"),
        services=OFFLINE,
    )
    camp.archive_campaign(session, actor=personal_actor(session, alice), campaign_id=second.id)
    camp.create_campaign(
        session, actor=personal_actor(session, bob), data=good_input(), services=OFFLINE
    )
    for status in (VideoStatus.READY, VideoStatus.READY, VideoStatus.FAILED):
        session.add(
            Video(
                workspace_id=first.workspace_id,
                user_id=alice,
                campaign_id=first.id,
                topic="t",
                status=status,
            )
        )
    session.flush()
    counts = overview_counts(session, actor=personal_actor(session, alice))
    assert (counts.active_campaigns, counts.archived_campaigns) == (1, 1)
    assert counts.videos_by_status["ready"] == 2
    assert counts.videos_by_status["failed"] == 1
    assert counts.videos_by_status["queued"] == 0
    assert counts.total_videos == 3
    empty = overview_counts(session, actor=personal_actor(session, bob))
    assert (empty.active_campaigns, empty.total_videos) == (1, 0)


def test_users_list_is_for_admins_only(session: Session, alice: int) -> None:
    admin = make_user(session, "root@example.com", role=Role.ADMIN)
    emails = [u.email for u in list_users(session, acting_user_id=admin)]
    assert sorted(emails) == ["alice@example.com", "root@example.com"]
    with pytest.raises(PermissionDeniedError):
        list_users(session, acting_user_id=alice)
