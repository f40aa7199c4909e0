"""Search: from a QueryPlan to ranked hits, and what is learned for it.

- `searcher`: `Searcher` and its `SearchSettings`: keyword and vector retrieval, citations.
- `fusion`: reciprocal rank fusion and one result per article.
- `rank`: the LightGBM ranker and its named features.
- `relevance`: whether a hit answers at all.
- `answer`: an extractive answer with cited passages.
- `metrics`, `train`: scoring and training the adapter and ranker (bench, `kb train`).
"""
