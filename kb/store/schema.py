"""The SQLite schema of a knowledge base (kb.store.db creates and migrates it)."""

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    issuer TEXT NOT NULL DEFAULT '',
    doc_number TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL DEFAULT '',
    effective TEXT NOT NULL DEFAULT '',
    speaker TEXT NOT NULL DEFAULT '',
    jurisdiction TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    source_format TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    page_starts TEXT NOT NULL DEFAULT '[]',
    added_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    heading_path TEXT NOT NULL,
    article TEXT NOT NULL DEFAULT '',
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    page INTEGER,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, seq);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(doc_id, article);
-- deleted and replaced documents, kept whole (row, chunks, keyword terms, vectors) so they can be restored
CREATE TABLE IF NOT EXISTS trash (
    doc_id INTEGER PRIMARY KEY,  -- the document's own id (AUTOINCREMENT never hands it out again)
    title TEXT NOT NULL,
    path TEXT NOT NULL,
    reason TEXT NOT NULL,  -- deleted | pruned | replaced | edited
    trashed_at TEXT NOT NULL DEFAULT (datetime('now')),
    embedding_model TEXT NOT NULL DEFAULT '',
    document TEXT NOT NULL,  -- the documents row as JSON
    chunks TEXT NOT NULL,  -- each chunk's row (without its vector) and keyword terms, as JSON
    embeddings BLOB NOT NULL  -- the chunks' vectors, float32, in the same order
);
-- who changed the library, and when (never what anyone searched)
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL DEFAULT (datetime('now')),
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_terms, 'row');
CREATE TABLE IF NOT EXISTS baskets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE TABLE IF NOT EXISTS basket_items (
    basket_id INTEGER NOT NULL REFERENCES baskets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    item TEXT NOT NULL,  -- the passage as collected (kb.types.BasketItem as JSON): outlasts its document
    PRIMARY KEY (basket_id, position)
);
-- the window's approved answers (口径库, kb.library.answer_book): a 标准问, its 相似问 and the articles
CREATE TABLE IF NOT EXISTS answer_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    similar TEXT NOT NULL DEFAULT '[]',   -- JSON list of 相似问
    articles TEXT NOT NULL,               -- JSON list of {"title", "article", "date"}: date = the law's version then
    text TEXT NOT NULL DEFAULT '',        -- an optional short 口径
    issuer TEXT NOT NULL DEFAULT '',      -- 发文单位, from the cited documents
    nature TEXT NOT NULL DEFAULT '',      -- 材料性质
    status TEXT NOT NULL DEFAULT 'draft', -- draft | approved
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    reviewed_by TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT NOT NULL DEFAULT '',
    review_due TEXT NOT NULL DEFAULT ''   -- ISO day; past it, an approved item is 待复核
);
-- questions asked at the window: confirmed (with the article) or not answered (found = 0)
CREATE TABLE IF NOT EXISTS answer_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    user TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    found INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    article TEXT NOT NULL DEFAULT ''
);
-- the 第一议题 学习台账 (kb.library.ledger): topics to study, sessions, their speeches and follow-up tasks
CREATE TABLE IF NOT EXISTS ledger_topics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    date TEXT NOT NULL,                   -- issued or published (ISO day): the 7 days count from it
    received TEXT NOT NULL DEFAULT '',    -- when it reached the bureau
    source TEXT NOT NULL DEFAULT '',      -- 文电, 学习强国, 媒体, 上级通知
    leader TEXT NOT NULL DEFAULT '',      -- 分管领导 who conveys it
    doc_id INTEGER,                       -- the document in the library, when there is one
    doc_title TEXT NOT NULL DEFAULT '',   -- its title then (outlasts a deleted document)
    confirmed INTEGER NOT NULL DEFAULT 1, -- 0: proposed from an ingested document, not yet confirmed
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE TABLE IF NOT EXISTS ledger_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- kb.library.ledger.KINDS
    host TEXT NOT NULL DEFAULT '',        -- 主持
    lead TEXT NOT NULL DEFAULT '',        -- 领学 / 传达 (a 民政大讲堂's lecturer)
    attendees TEXT NOT NULL DEFAULT '[]', -- JSON list of names
    absent TEXT NOT NULL DEFAULT '[]',    -- JSON list of {"name", "reason"}
    topics TEXT NOT NULL DEFAULT '[]',    -- JSON list of topic ids, in agenda order (the first is the first item)
    basket_id INTEGER,                    -- the passages read
    notes TEXT NOT NULL DEFAULT '',
    measures TEXT NOT NULL DEFAULT '',    -- 贯彻落实措施 decided
    speeches TEXT NOT NULL DEFAULT '[]',  -- JSON list of {"speaker", "text"}: 研讨发言
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE TABLE IF NOT EXISTS ledger_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER REFERENCES ledger_sessions(id) ON DELETE SET NULL,
    text TEXT NOT NULL,
    department TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    due TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '未开始', -- 未开始 | 推进中 | 已完成
    articles TEXT NOT NULL DEFAULT '[]',  -- JSON list of {"title", "article"} it rests on
    updates TEXT NOT NULL DEFAULT '[]',   -- JSON list of {"at", "status", "note", "user"}
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE TABLE IF NOT EXISTS ledger_plan (
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    subject TEXT NOT NULL,                -- 学习计划: what the month is to study
    PRIMARY KEY (year, month, subject)
);
"""
