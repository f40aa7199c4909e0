"""The library: the `KnowledgeBase` door and the services behind it.

- `knowledge_base`: `KnowledgeBase`, the one object the app, the CLI and the server use.
- `ingestion`: reading files into the store (`Ingestion`).
- `uploads`: the upload workflow the app and the API share (`Uploads`).
- `versions`: the pure rules of a law's versions (status, in force on a day) and `Versions`.
- `baskets`: material baskets (`Baskets`).
- `diff`: 新旧对照, article by article.
- `auth`: users, roles and tokens.
"""

# No imports here: `kb.library.auth` and the pure modules load without the models.
