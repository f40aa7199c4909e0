"""Reading Chinese text: pure, no model and no store (the tests need neither).

- `query`: `analyse(query) -> QueryPlan`, the one reading of a question every later step uses;
  citations (`parse_citation`), titles (`normalise_title`, `match_titles`).
- `places`: `Place` (a division code), `places_in`, `jurisdiction_of`, `relation`.
- `words`: jieba segmentation (`Words`) and the editable glossary (`Glossary`).

Each module imports only what it needs, so `places` loads without jieba.
"""
