"""MediaStorage on S3 (or any S3-compatible endpoint) through boto3, with presigned GETs.

S3 makes an object visible only once its upload completes, so a killed worker never leaves a
half-written object under its final key.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from viralshorts.errors import IntegrationError, NotFoundError
from viralshorts.integrations.storage_local import content_type_for, validate_key
from viralshorts.settings import Settings


def _content_disposition(download_name: str) -> str:
    if not download_name:
        return "inline"
    safe = download_name.replace('"', "").replace("\\", "")
    return f'attachment; filename="{safe}"'


class _ObjectStream(io.RawIOBase):
    """A ranged GET's body as a file object: bytes arrive as they are read, never all at once."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except (BotoCoreError, OSError) as exc:
            raise IntegrationError(f"Could not read from storage: {exc}") from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class S3Storage:
    """Keys are object keys in ``settings.s3_bucket``; the client is created on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._bucket = settings.s3_bucket
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The boto3 S3 client (path-style, SigV4), created lazily so forked workers own theirs."""
        if self._client is None:
            s = self._settings
            self._client = boto3.client(
                "s3",
                endpoint_url=s.s3_endpoint_url or None,
                region_name=s.aws_region,
                aws_access_key_id=s.aws_access_key_id or None,
                aws_secret_access_key=s.aws_secret_access_key.get_secret_value() or None,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        return self._client

    def put_file(self, key: str, source: Path, content_type: str) -> None:
        """Upload ``source`` (multipart above 8 MiB) with its Content-Type."""
        try:
            self.client.upload_file(
                str(source),
                self._bucket,
                validate_key(key),
                ExtraArgs={"ContentType": content_type},
            )
        except (BotoCoreError, ClientError) as exc:
            raise IntegrationError(f"Could not upload to storage: {exc}") from exc

    def download_to(self, key: str, dest: Path) -> Path:
        """Download ``key`` to ``dest`` through a temporary name; NotFoundError if missing."""
        if not self.exists(key):
            raise NotFoundError(f"media {key} not found")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.part"
        try:
            self.client.download_file(self._bucket, key, str(tmp))
            tmp.replace(dest)
        except (BotoCoreError, ClientError) as exc:
            raise IntegrationError(f"Could not download from storage: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self._bucket, Key=validate_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise IntegrationError(f"Could not reach storage: {exc}") from exc
        return True

    def size(self, key: str) -> int:
        """The object's size in bytes (a HEAD); NotFoundError if there is none."""
        try:
            head = self.client.head_object(Bucket=self._bucket, Key=validate_key(key))
        except ClientError as exc:
            if _missing(exc):
                raise NotFoundError(f"media {key} not found") from exc
            raise IntegrationError(f"Could not reach storage: {exc}") from exc
        return int(head["ContentLength"])

    def open_stream(self, key: str, offset: int = 0) -> BinaryIO:
        """A ranged GET from byte ``offset``, read as it streams; NotFoundError if missing."""
        try:
            reply = self.client.get_object(
                Bucket=self._bucket, Key=validate_key(key), Range=f"bytes={offset}-"
            )
        except ClientError as exc:
            if _missing(exc):
                raise NotFoundError(f"media {key} not found") from exc
            raise IntegrationError(f"Could not read from storage: {exc}") from exc
        return cast(BinaryIO, io.BufferedReader(_ObjectStream(reply["Body"]), 1024 * 1024))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self._bucket, Key=validate_key(key))

    def signed_url(self, key: str, *, expires_in: int, download_name: str = "") -> str:
        """A presigned GET that plays inline, or downloads as ``download_name``."""
        params = {
            "Bucket": self._bucket,
            "Key": validate_key(key),
            "ResponseContentType": content_type_for(key),
            "ResponseContentDisposition": _content_disposition(download_name),
        }
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
