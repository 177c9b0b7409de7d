"""Private files under ``MEDIA_ROOT``: readable by the application's user only and never given a URL (nothing serves
``MEDIA_ROOT``). A view checks the merchant first, then answers with the file's bytes."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage


class PrivateFileStorage(FileSystemStorage):
    """``MEDIA_ROOT`` (followed when the setting changes), files 0600 and folders 0700, no URL."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no public URL: serve them through a view that checks the merchant.")
