"""The upload workflow the app and the API share: save the files, find the stored documents each may
be another copy or version of, then replace, keep as a new version or skip, and leave no stray file
behind. A file is read once: the comparison's reading is reused by ingestion (kb.library.ingestion)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import StudyKBError, UploadError
from kb.library.filters import check_day
from kb.library.ingestion import Ingestion, IngestReport
from kb.store.uploads import save_upload

UPLOAD_CHOICES = {"replace": "替换已收录的文档", "version": "另存为新版本（都保留）", "skip": "跳过，不入库"}
# what a replacement keeps of the stored document unless the user takes the new file's: a DOCX
# conversion of a 2016 law read its first date (1998) as the law's
COMPARED = {"title": "标题", "date": "日期", "doc_number": "文号", "issuer": "发布机关"}


class Uploads:
    """Uploads into one knowledge base, through its Ingestion."""

    def __init__(self, ingestion: Ingestion):
        self.ingestion = ingestion

    def upload(self, files: list[tuple[str, bytes]], actor: str = "", ask: bool = True,
               on_progress: Callable[[int, int], None] | None = None, max_mb: float | None = None) -> UploadResult:
        """Saves uploaded files (name, bytes) into the upload folder and ingests them. With `ask`, a
        file that seems another copy or version of a stored document (same title and date, or most of
        the same text) is not ingested but waits for `settle`; without, it is kept beside it as a
        version. A file that did not become a document leaves nothing behind. `max_mb`: the size limit
        (default the configuration's max_file_mb; the app passes the one it read this run)."""
        limit = int((max_mb or self.ingestion.kb.config.max_file_mb) * 2**20)
        result = UploadResult(IngestReport())
        saved: list[Path] = []
        for name, data in files:
            try:
                path = save_upload(name, data, self.ingestion.kb.config.uploads_path, limit)
            except StudyKBError as exc:
                result.refused.append((str(exc.subject), exc.reason))
                continue
            saved.append(path)
            result.names[str(path.resolve())] = path.name  # as saved (a second file of one name is renamed)
        ready = []
        for path in dict.fromkeys(saved):  # a file once
            similar = []
            if ask:
                try:
                    similar = self.ingestion.similar_documents(path)
                except StudyKBError:
                    pass  # unreadable: ingestion says why
            if similar:
                doc = self.ingestion._read[str(path.resolve())][0]
                result.waiting.append(Waiting(
                    str(path), [{k: d[k] for k in ("id", "path", "added_at", *COMPARED)} for d in similar],
                    {k: getattr(doc, k) for k in COMPARED}))
            else:
                ready.append(path)
        if ready:
            result.report = self.ingestion.ingest(ready, progress=False, on_progress=on_progress, actor=actor)
            self.ingestion.kb.discard_uploads([path for path, _ in result.report.failed + result.report.duplicates])
        for path in ready:  # what ingestion did not take from the reading (a duplicate, a failure) goes
            self.ingestion._read.pop(str(path.resolve()), None)
        return result

    def settle(self, waiting: Waiting, choice: str, actor: str = "", skip_ids: set[int] | None = None,
               on_progress: Callable[[int, int], None] | None = None, take_new: tuple[str, ...] = (),
               version_date: str = "") -> Settled:
        """Does what the user chose (UPLOAD_CHOICES) for an upload that waited. To replace, the stored
        documents go to the trash first (the new file may hold the same text in another format), and
        come back if the new file does not get in; the replacement keeps the stored document's
        COMPARED metadata where the new file reads otherwise (Waiting.differences), except the fields
        in `take_new`. A new version is dated `version_date` (default: as the file reads), which must
        differ from every matched version's. `skip_ids`: documents already replaced in this round
        (the .md and the .docx of one law both replacing it); those replaced now are added.
        Raises UploadError for a version dated as a stored one."""
        if choice not in UPLOAD_CHOICES:
            raise ValueError(f"unknown choice {choice}")
        overrides: dict[str, str] = {}
        if choice == "replace":
            overrides = {k: stored for k, (stored, _) in waiting.differences().items() if k not in take_new}
        elif choice == "version":
            date = check_day(version_date, "新版本的日期") or waiting.incoming.get("date", "")
            taken = sorted({d["date"] for d in waiting.similar if d["date"] and d["date"] == date})
            if taken:
                raise UploadError(Path(waiting.path).name, f"新版本的日期 {date} 与已收录的版本相同，请填写新版本的日期"
                                                           "（新旧对照要求两个版本日期不同）")
            if version_date:
                overrides = {"date": date}
        settled = Settled(IngestReport())
        if choice == "skip":
            self.ingestion.kb.discard_uploads([waiting.path])
            self.ingestion._read.pop(str(Path(waiting.path).resolve()), None)
            return settled
        skip_ids = skip_ids if skip_ids is not None else set()
        replaced: list[tuple[dict, str]] = []
        for d in waiting.similar if choice == "replace" else []:
            if d["id"] in skip_ids:
                continue
            skip_ids.add(d["id"])
            try:
                replaced.append((d, self.ingestion.kb.remove(d["id"], reason="replaced", actor=actor)))
            except StudyKBError:
                pass  # already gone (another session removed it)
        try:
            settled.report = self.ingestion.ingest([Path(waiting.path)], progress=False, on_progress=on_progress,
                                                   actor=actor, overrides=overrides or None)
            self.ingestion.kb.discard_uploads([p for p, _ in settled.report.failed + settled.report.duplicates])
        finally:  # whatever happened to the new file, the old ones are not left in the trash for it
            if settled.report.added or settled.report.replaced:
                settled.replaced = replaced
            else:
                for d, title in replaced:
                    skip_ids.discard(d["id"])  # back in the library: a later file of this round may replace it
                    try:
                        self.ingestion.restore(d["id"], actor=actor)
                    except StudyKBError as exc:
                        settled.still_in_trash.append((title, exc.reason))
            self.ingestion._read.pop(str(Path(waiting.path).resolve()), None)
        return settled


@dataclass
class Waiting:
    """An upload that matches stored documents, waiting for the user's choice."""

    path: str  # the saved file
    similar: list[dict]  # id, path, added_at and COMPARED of each stored document it matches
    incoming: dict = field(default_factory=dict)  # COMPARED as the new file reads

    def differences(self) -> dict[str, tuple[str, str]]:
        """field → (stored, new) where the new file reads the first matched document's metadata otherwise."""
        stored = self.similar[0] if self.similar else {}
        return {k: (stored[k], self.incoming[k]) for k in COMPARED
                if stored.get(k) and k in self.incoming and self.incoming[k] != stored[k]}


@dataclass
class UploadResult:
    report: IngestReport
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason): not saved at all
    waiting: list[Waiting] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # saved path → its file name


@dataclass
class Settled:
    report: IngestReport
    replaced: list[tuple[dict, str]] = field(default_factory=list)  # (stored document, title) now in the trash
    still_in_trash: list[tuple[str, str]] = field(default_factory=list)  # (title, why) not brought back
