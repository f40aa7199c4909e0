"""The one family of errors a user sees: each names its subject (a file, a document, a
setting) and the reason, in Chinese. It lives in ingest/, the lowest layer, so that the
readers' errors belong to it; kb.errors adds the core's own kinds."""

from __future__ import annotations

from pathlib import Path


class StudyKBError(Exception):
    """`subject`: what the error is about (a file path, a document, a setting); `reason`: why."""

    def __init__(self, subject: Path | str, reason: str):
        self.subject = str(subject)
        self.reason = reason
        super().__init__(f"{subject}：{reason}" if self.subject else reason)


class ReadError(StudyKBError):
    """A file that cannot be read."""

    @property
    def path(self) -> str:
        return self.subject
