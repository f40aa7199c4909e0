"""Learning from questions (`kb train`): question → article pairs teach a query adapter for the
embedding model (kb.models.adapter) and a learned fusion (kb.search.rank), over a built knowledge base.

Pairs come as JSON lines, either STARD's format
    {"query": "...", "relevant": [{"name": "中华人民共和国民法典第五十四条", ...}]}
or a bureau's own
    {"query": "...", "relevant": [{"title": "社会救助暂行办法", "article": "第十一条"}]}.

No figure comes from training and scoring on the same questions: `cross_validate` trains on k-1
folds and scores the k-th, and the ranker itself learns from candidates that out-of-fold adapters
retrieved (an adapter has seen its own training questions, and would make the dense side look
better than it is on new ones)."""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ingest.articles import ARTICLE
from kb.errors import StudyKBError
from kb.language.query import analyse, chinese_number, normalise_title
from kb.language.words import Glossary
from kb.models.adapter import AdapterSettings, adapt, read_adapter_weight, train_adapter
from kb.search.metrics import score
from kb.search.precedents import Precedents
from kb.search.rank import Ranker, RankerSettings, train_ranker

Key = tuple[str, str]  # (normalised law title, article)
PIECES = ("adapter", "ranker", "terms", "log")  # what training can learn; log: the ranker with precedents
_NUMERAL = re.compile(r"[第零〇一二三四五六七八九十百千万两条款项]+")  # pieces of article numbers, not terms
_NAMED_ARTICLE = re.compile(rf"^(.+?)({ARTICLE})$")


class TrainingError(StudyKBError):
    pass


@dataclass
class Pair:
    query: str
    relevant: list[Key]


def read_articles(path: Path | str) -> dict[int, Key]:
    """STARD's articles.jsonl: article id → (normalised law title, article)."""
    out: dict[int, Key] = {}
    try:
        with Path(path).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    a = json.loads(line)
                    out[int(a["id"])] = (normalise_title(a["law"]), a["article"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
        raise TrainingError(path, f"无法读取条文文件（{exc}）") from exc
    return out


def read_pairs(path: Path | str, articles: dict[int, Key] | None = None) -> list[Pair]:
    """Question → article pairs from a JSON-lines file (STARD's format or title/article). With
    STARD's `articles` (read_articles), relevant articles are taken by id rather than by name."""
    path = Path(path)
    pairs: list[Pair] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingError(path, f"无法读取（{exc}）") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            relevant = []
            for r in item["relevant"]:
                if articles is not None and "ids" in r:
                    relevant += [articles[int(i)] for i in r["ids"] if int(i) in articles]
                elif "name" in r:  # the title, then the article: 中华人民共和国民法典第五十四条
                    m = _NAMED_ARTICLE.match(r["name"].strip())
                    if m:
                        relevant.append((normalise_title(m.group(1)), m.group(2)))
                else:
                    relevant.append((normalise_title(r["title"]), article_name(str(r["article"]))))
            pairs.append(Pair(str(item["query"]), list(dict.fromkeys(relevant))))
        except (ValueError, KeyError, TypeError) as exc:
            raise TrainingError(f"{path}:{number}", f"不是有效的问答对（{exc}）："
                                '应为 {"query": ..., "relevant": [{"title": ..., "article": ...}]}') from exc
    return pairs


@dataclass
class Trained:
    weight: np.ndarray | None = None  # the query adapter
    ranker: str = ""  # LightGBM model text
    terms: dict[str, list[str]] = field(default_factory=dict)  # mined: plain word → statute words
    ranker_log: str = ""  # the ranker trained with the other questions as precedents (kb.search.precedents)
    precedents: Precedents | None = None  # the training questions, for the questions scored after


def mine_terms(questions: list[list[str]], answers: list[str], answer_words: list[list[str]],
               frequency: Callable[[str], float], min_pairs: int = 4, min_share: float = 0.4,
               max_frequency: float = 0.01, per_word: int = 2) -> dict[str, list[str]]:
    """Plain words → the statute's words (工资 → 劳动报酬), from pairs: a question word its relevant
    articles never use, with the words those articles use and the question does not. A pair of
    words is kept when it recurs in at least `min_pairs` questions and in `min_share` of those
    with the plain word, and when the statute word is specific: in at most `max_frequency` of
    the stored chunks (`frequency`)."""
    asked: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for words, text, formal_words in zip(questions, answers, answer_words):
        own = set(words)
        for plain in {w for w in own if len(w) >= 2 and w not in text}:
            asked[plain] += 1
            for formal in {t for t in formal_words if len(t) >= 2 and t not in own and not _NUMERAL.fullmatch(t)}:
                together[plain, formal] += 1
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (plain, formal), n in together.items():
        if n >= min_pairs and n / asked[plain] >= min_share:
            found[plain].append((n, formal))
    terms = {}
    for plain, formal in sorted(found.items()):
        chosen = [t for _, t in sorted(formal, reverse=True) if frequency(t) <= max_frequency][:per_word]
        if chosen:
            terms[plain] = chosen
    return terms


def article_name(text: str) -> str:
    """An article as statutes number it: 第10条, 10 → 第十条; 第十条之一 stays."""
    text = text.strip()
    m = re.fullmatch(r"第?\s*(\d+)\s*条?", text)
    if m:
        return f"第{chinese_number(int(m.group(1)))}条"
    return text if text.startswith("第") else f"第{text.removesuffix('条')}条"


class Trainer:
    """Pairs resolved against one knowledge base: each question's relevant chunks and its base
    query vector."""

    def __init__(self, kb, pairs: list[Pair], progress: bool = True,
                 adapter_settings: AdapterSettings | None = None, ranker_settings: RankerSettings | None = None):
        self.kb = kb
        # its own searcher (same store, index and model): swapping the adapter, ranker or glossary
        # while training never touches the one the knowledge base serves queries with
        self.searcher = copy.copy(kb.searcher)
        # a knowledge base already using an adapter (the default) refines it rather than starting afresh
        self.start = read_adapter_weight(kb.embedder.source) if kb.embedder.adapter else None
        self.progress = progress
        self.adapter_settings = adapter_settings
        self.ranker_settings = ranker_settings
        # candidates of other questions, from another library (window questions over local rules: see
        # bench.window), that every ranker this trainer trains also learns from: (features, labels)
        self.extra: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        self.ids, self.passages = ids, _ = kb.store.embeddings()
        row_of = {int(cid): i for i, cid in enumerate(ids)}
        rows_of_key: dict[Key, list[int]] = {}
        for cid, title, article in kb.store.conn.execute(
                "SELECT c.id, d.title, c.article FROM chunks c JOIN documents d ON d.id = c.doc_id"
                " WHERE c.article != ''"):
            rows_of_key.setdefault((normalise_title(title), article), []).append(row_of[cid])
        self.pairs = [p for p in pairs if any(k in rows_of_key for k in p.relevant)]
        self.questions = len(pairs)
        self.positives = [sorted({r for k in p.relevant for r in rows_of_key.get(k, [])}) for p in self.pairs]
        self.chunks_of_key = {k: [int(ids[r]) for r in rows] for k, rows in rows_of_key.items()}
        self.texts = [self._embedded_text(p.query) for p in self.pairs]
        bar = tqdm(self.texts, desc="问题向量", unit="个", disable=not progress, leave=False)
        self.base = {t: kb.embedder.encode_query(t, adapted=False) for t in bar}

    def _embedded_text(self, query: str) -> str:
        return analyse(query, self.kb.glossary).embedded_text

    def _query_vector(self, weight: np.ndarray | None) -> Callable[[str], np.ndarray]:
        def embed(text: str) -> np.ndarray:
            base = self.base.get(text)
            if base is None:
                base = self.kb.embedder.encode_query(text, adapted=False)
            return base if weight is None else adapt(base, weight)[0]
        return embed

    def terms(self, idx: list[int]) -> dict[str, list[str]]:
        """Plain words → statute words mined from these pairs (mine_terms)."""
        words = self.kb.words
        chunk_ids = [[int(self.ids[r]) for r in self.positives[i]] for i in idx]
        rows = self.kb.store.chunks(sorted({c for ids in chunk_ids for c in ids}))
        answers = ["\n".join(rows[c]["text"] for c in ids if c in rows) for ids in chunk_ids]
        total = max(self.kb.store.chunk_count(), 1)
        counts: dict[str, float] = {}

        def frequency(word: str) -> float:
            if word not in counts:
                counts[word] = len(self.kb.store.keyword_search([word], total)) / total
            return counts[word]

        return mine_terms([words(self.pairs[i].query) for i in idx], answers, [words(a) for a in answers], frequency)

    def adapter(self, idx: list[int]) -> np.ndarray:
        queries = np.vstack([self.base[self.texts[i]] for i in idx])
        return train_adapter(queries, [self.positives[i] for i in idx], self.passages, self.adapter_settings,
                             self.start)

    def candidate_features(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Every pair's candidates as the knowledge base's own query model and adapter find them (for
        `extra` of a trainer over another library)."""
        return self._features(list(range(len(self.pairs))), self.start)

    def precedents(self, idx: list[int], weight: np.ndarray | None) -> Precedents:
        """These questions as answered questions (a log of approved answers), as `weight` embeds them."""
        vectors = np.vstack([self.base[self.texts[i]] for i in idx])
        vectors = adapt(vectors, weight) if weight is not None else vectors
        answers = [list(self.pairs[i].relevant) for i in idx]
        return Precedents(vectors, answers, {k: self.chunks_of_key.get(k, []) for keys in answers for k in keys})

    def _features(self, idx: list[int], weight: np.ndarray,
                  precedents: Precedents | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        self.searcher.embed_query = self._query_vector(weight)
        self.searcher.precedents = lambda: precedents
        features, labels = [], []
        for i in tqdm(idx, desc="候选特征", unit="问", disable=not self.progress, leave=False):
            keys, matrix = self.searcher.candidates(self.pairs[i].query)
            relevant = set(self.pairs[i].relevant)
            features.append(matrix)
            labels.append(np.array([1.0 if k in relevant else 0.0 for k in keys]))
        return features, labels

    def fit(self, idx: list[int], folds: int = 5, seed: int = 0,
            pieces: tuple[str, ...] = ("adapter", "ranker", "terms")) -> Trained:
        """The adapter and the mined terms on all of `idx`; the ranker on candidates each question's
        out-of-fold adapter retrieved. `pieces` says which to train."""
        trained = Trained()
        rankers = [name for name in ("ranker", "log") if name in pieces]
        if rankers:
            features: dict[str, list] = {name: [] for name in rankers}
            labels: dict[str, list] = {name: [] for name in rankers}
            for part in split(idx, folds, seed):
                held = set(part)
                rest = [i for i in idx if i not in held]
                weight = self.adapter(rest)
                for name in rankers:  # with "log", each question's precedents are the other part's questions
                    f, y = self._features(part, weight, self.precedents(rest, weight) if name == "log" else None)
                    features[name] += f
                    labels[name] += y
            for name in rankers:
                if not any(len(y) and y.max() > 0 for y in labels[name]):
                    raise TrainingError("问答对", "没有一个问题的相关条文出现在检索候选中，无法训练排序")
                model = train_ranker(features[name] + self.extra[0], labels[name] + self.extra[1],
                                     self.ranker_settings)
                if name == "log":
                    trained.ranker_log = model
                else:
                    trained.ranker = model
        if "adapter" in pieces:
            trained.weight = self.adapter(idx)
        if "terms" in pieces:
            trained.terms = self.terms(idx)
        if "log" in pieces:
            trained.precedents = self.precedents(idx, trained.weight)
        return trained

    def evaluate(self, idx: list[int], trained: Trained | None, methods: dict[str, tuple]) -> dict[str, list]:
        """Runs (ranked keys, relevant keys) per question for each method:
        name → (mode, adapter, ranker, terms), the last three saying which trained pieces it uses."""
        searcher, glossary = self.searcher, self.kb.searcher.glossary
        runs: dict[str, list] = {name: [] for name in methods}
        for name, (mode, adapted, learned, *rest) in methods.items():
            mined, logged, same_first = (rest + [False, False, False])[:3]
            searcher.precedents = lambda: None
            if adapted == "current":
                searcher.embed_query, searcher.ranker = self.kb.searcher.embed_query, self.kb.searcher.ranker
            else:
                searcher.embed_query = self._query_vector(trained.weight if adapted and trained else None)
                model = (trained.ranker_log if logged else trained.ranker) if learned and trained else ""
                searcher.ranker = Ranker(model) if model else None
                if logged and trained:
                    searcher.precedents = lambda: trained.precedents
            searcher.glossary = with_terms(glossary, trained.terms if mined and trained else {})
            for i in idx:
                hits = searcher.search(self.pairs[i].query, k=100, mode=mode)
                ranked = list(dict.fromkeys((normalise_title(h.citation.title), h.article) for h in hits))
                if same_first and trained and trained.precedents:  # as AnswerBook.first: the same question's answer
                    first = trained.precedents.answered(searcher.embed_query(self.texts[i]))
                    ranked = first + [key for key in ranked if key not in first]
                runs[name].append((ranked, [{k} for k in dict.fromkeys(self.pairs[i].relevant)]))
        searcher.glossary = glossary
        return runs

    def cross_validate(self, folds: int = 5, seed: int = 0, methods: dict[str, tuple] | None = None) -> dict:
        """Each method's metrics over all usable questions, each question scored by pieces trained
        without it."""
        methods = methods or METHODS
        # train only what some method uses: methods are (mode, adapter, ranker[, terms])
        pieces = tuple(piece for n, piece in enumerate(PIECES, 1)
                       if any(len(m) > n and m[n] is True for m in methods.values()))
        everything = list(range(len(self.pairs)))
        runs: dict[str, list] = {name: [] for name in methods}
        for n, part in enumerate(split(everything, folds, seed), 1):
            started = time.perf_counter()
            held = set(part)
            rest = [i for i in everything if i not in held]
            trained = self.fit(rest, folds, seed, pieces)
            for name, fold_runs in self.evaluate(part, trained, methods).items():
                runs[name] += fold_runs
            if self.progress:
                print(f"  第 {n}/{folds} 折：{time.perf_counter() - started:.0f} 秒", flush=True)
        return {name: score(r) | {"questions": len(r)} for name, r in runs.items()}


# What cross-validation reports: the untrained methods as the "before", each trained piece alone,
# and together. name → (search mode, query adapter, learned fusion[, mined terms])
METHODS = {
    "current": ("hybrid", "current", "current"),  # as the knowledge base is configured now
    "keyword": ("keyword", False, False),
    "dense": ("dense", False, False),
    "hybrid": ("hybrid", False, False),
    "dense+adapter": ("dense", True, False),
    "hybrid+adapter": ("hybrid", True, False),
    "hybrid+ranker": ("hybrid", False, True),
    "hybrid+adapter+ranker": ("hybrid", True, True),
}


# The window's log (approved answers; here the other folds' questions) as precedents: votes that join
# the candidates, and ranker features (bench.stard --cv 5 --log)
LOG_METHODS = {
    "hybrid": ("hybrid", False, False),
    "hybrid+adapter+ranker": ("hybrid", True, True),
    "hybrid+adapter+log": ("hybrid", True, False, False, True),  # the votes in rank fusion alone
    "hybrid+adapter+ranker+log": ("hybrid", True, True, False, True),
    "hybrid+adapter+ranker+log+same": ("hybrid", True, True, False, True, True),  # and the same question's first
}


# The mined terms, measured alone (bench.stard --cv 5 --methods terms)
TERM_METHODS = {
    "keyword": ("keyword", False, False, False),
    "keyword+terms": ("keyword", False, False, True),
    "hybrid": ("hybrid", False, False, False),
    "hybrid+terms": ("hybrid", False, False, True),
}


def with_terms(glossary: Glossary, terms: dict[str, list[str]]) -> Glossary:
    """The glossary with mined terms added (its own entries win)."""
    if not terms:
        return glossary
    entries = {**{w: list(t) for w, t in terms.items()}, **glossary.entries}
    return Glossary(entries, glossary.intents, glossary.groups)


def split(idx: list[int], folds: int, seed: int = 0) -> list[list[int]]:
    """`idx` in `folds` parts of a fixed random order."""
    order = list(np.random.RandomState(seed).permutation(idx))
    return [sorted(int(i) for i in part) for part in np.array_split(order, folds)]


def save_trained(trained: Trained, kb, out: Path, about: dict) -> dict[str, Path]:
    """The adapted model (a sentence-transformers folder), the ranker and the adapter's raw weight."""
    from kb.models.adapter import save_adapted_model
    from kb.models.embed import resolve_model

    out.mkdir(parents=True, exist_ok=True)
    # an adapted model's base is what gets the new adapter
    base_folder = Path(resolve_model(replace(kb.config, model=kb.passage_model)))
    model = save_adapted_model(base_folder, kb.passage_model, trained.weight, out / "model", about)
    ranker = out / "ranker.txt"
    tmp = ranker.with_suffix(".tmp")
    tmp.write_text(trained.ranker, encoding="utf-8")
    tmp.replace(ranker)
    weight = out / "query_adapter.npy"
    np.save(weight, trained.weight)
    return {"model": model, "ranker": ranker, "adapter": weight}
