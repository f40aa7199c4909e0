"""Storage: what is kept on disk and how it changes safely.

- `db`: the SQLite store (documents, chunks, FTS5 keyword index, trash, baskets, audit): `Store`.
- `vectors`: the FAISS index files, replaced atomically per generation: `VectorIndex`.
- `live`: the index in memory, following the store's generation; one commit path: `LiveVectors`.
- `uploads`: saving an uploaded file into the upload folder: `save_upload`.
"""
