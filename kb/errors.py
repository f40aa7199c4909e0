"""The core's errors: one family (StudyKBError, from ingest.errors), each naming its subject
and the reason in Chinese. The CLI and the app catch this family alone and show its message;
any other exception is a bug and keeps its traceback."""

from __future__ import annotations

from ingest.errors import ReadError, StudyKBError

__all__ = ["AccessError", "BasketError", "ConfigError", "DocumentNotFound", "ModelError", "ModelMismatchError",
           "QueryError", "ReadError", "RemoteError", "StoreError", "StudyKBError", "UploadError"]


class ConfigError(StudyKBError):
    """A setting or a settings file (studykb.toml, the glossary) that cannot be used."""


class StoreError(StudyKBError):
    """The knowledge base's files cannot be opened or written."""


class ModelError(StudyKBError):
    """The embedding model cannot be built or loaded."""


class ModelMismatchError(ModelError):
    """The knowledge base was built with another model than the one configured."""


class DocumentNotFound(StudyKBError):
    """No document answers to the reference given."""


class UploadError(StudyKBError):
    """A file handed in through an interface that is refused before it is stored."""

    @property
    def name(self) -> str:
        return self.subject


class BasketError(StudyKBError):
    """A material basket that cannot be created, renamed or found."""


class AnswerError(StudyKBError):
    """A 口径库 item or question that cannot be taken (empty, too long, no such article or item)."""


class RemoteError(StudyKBError):
    """A running `kb serve` that cannot be reached, or that refused the request."""


class QueryError(StudyKBError):
    """A query that cannot be searched as given (too long)."""


class AccessError(StudyKBError):
    """A change to the library by someone not signed in (`signed_in` False) or without the role."""

    def __init__(self, subject: str, reason: str, signed_in: bool = False):
        super().__init__(subject, reason)
        self.signed_in = signed_in
