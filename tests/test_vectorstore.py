"""The index against a real Chroma server (`chroma run`) started by the test on loopback."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.index import Index, build_index
from assistant.retrieval import retrieve
from assistant.vectorstore import VectorStoreError, chroma_client

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists() and not shutil.which("chroma"):
        pytest.skip("chroma CLI not installed")
    port = _free_port()
    proc = subprocess.Popen([str(chroma if chroma.exists() else "chroma"), "run", "--path",
                             str(tmp_path_factory.mktemp("chroma-server")), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"ANONYMIZED_TELEMETRY": "False",
                                                                                     "PATH": "/usr/bin:/bin"})
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            chroma_client(None, "127.0.0.1", port)
            break
        except VectorStoreError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("chroma run did not come up")
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_and_questions_against_a_chroma_server(settings, embedder, built_index, chroma_server, tmp_path):
    shutil.copytree(settings.corpus_dir, tmp_path / "corpus")
    server = settings.with_(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", chroma_host="127.0.0.1",
                            chroma_port=chroma_server)
    report = build_index(server, embedder, progress=False, log=lambda m: None)
    assert report.chunks == built_index.chunks
    index = Index.open(server)
    assert index.store.count() == report.chunks
    contexts = retrieve(index, embedder, "Vad är målvärdet för sjukfrånvaro 2028?")
    assert any("4,5 procent" in c.chunk.text for c in contexts)
    # a second build swaps collections and drops the superseded ones, keeping the previous
    (server.corpus_dir / "extra.txt").write_text("EXTRA\nEn extra rad om regionen.\n", encoding="utf-8")
    build_index(server, embedder, progress=False, log=lambda m: None)
    names = {c.name for c in chroma_client(None, "127.0.0.1", chroma_server).list_collections()}
    assert Index.open(server).meta["collection"] in names and len(names) <= 2


def test_a_chroma_server_that_is_down_gives_a_clear_error_quickly(settings):
    started = time.time()
    with pytest.raises(VectorStoreError) as err:
        chroma_client(None, "127.0.0.1", _free_port())
    assert "svarar inte" in str(err.value) and time.time() - started < 30
