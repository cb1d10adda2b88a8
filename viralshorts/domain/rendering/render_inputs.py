"""The inputs of one render: the RenderSpec, with the creator's uploads and music on disk and
the length the creator's plan allows."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from viralshorts.db import session_scope
from viralshorts.domain import quotas
from viralshorts.domain.media_library import within_picture_limits
from viralshorts.domain.rendering import pipeline
from viralshorts.domain.rendering.looks import LOOKS
from viralshorts.domain.video_requests import music_asset_id
from viralshorts.integrations.ports import Services
from viralshorts.models import BackgroundSource, Campaign, MediaAsset, MediaKind, Video


def _download_media(services: Services, video: Video, dest: Path) -> list[Path]:
    if video.background_source != BackgroundSource.UPLOADS:
        return []
    with session_scope() as session:
        kinds = (MediaKind.CLIP, MediaKind.IMAGE)
        query = select(MediaAsset).where(
            MediaAsset.workspace_id == video.workspace_id, col(MediaAsset.kind).in_(kinds)
        )
        assets = list(session.exec(query.order_by(col(MediaAsset.id))).all())
    # An upload stored before the picture limits existed may be a decompression bomb: skip it
    # rather than let ffprobe decode it in the work horse.
    assets = [a for a in assets if within_picture_limits(a.width, a.height)]
    return [
        services.storage.download_to(a.storage_key, dest / f"{a.id}{Path(a.storage_key).suffix}")
        for a in assets
    ]


def _music_path(services: Services, video: Video, dest: Path) -> Path | None:
    if video.music.startswith("bundled:"):
        return pipeline.resolve_music(video.music)
    asset_id = music_asset_id(video.music)
    if asset_id is None:
        return None
    with session_scope() as session:
        asset = session.get(MediaAsset, asset_id)
    if asset is None or asset.workspace_id != video.workspace_id:
        return None
    return services.storage.download_to(
        asset.storage_key, dest / f"music{Path(asset.storage_key).suffix}"
    )


def _plan_max_seconds(workspace_id: int) -> int:
    with session_scope() as session:
        return quotas.plan_for(session, workspace_id=workspace_id).max_seconds


def build_spec(
    services: Services, video: Video, campaign: Campaign, work_dir: Path
) -> pipeline.RenderSpec:
    """The pipeline's RenderSpec for ``video``, with the user's media downloaded to ``work_dir``."""
    inputs = work_dir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    return pipeline.RenderSpec(
        topic=video.topic,
        niche=campaign.niche,
        tone=campaign.tone,
        language=video.language,
        target_seconds=video.target_seconds,
        seed=video.seed,
        custom_script=video.custom_script,
        script=video.script,
        voice=video.voice,
        voice_speed=video.voice_speed,
        caption_style=video.caption_style,
        background_source=str(video.background_source),
        user_media=_download_media(services, video, inputs),
        music_path=_music_path(services, video, inputs),
        max_seconds=_plan_max_seconds(video.workspace_id),
        look=video.palette if video.palette in LOOKS else campaign.palette,
        facts=tuple(video.facts or ()),
    )
