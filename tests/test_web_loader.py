"""assistant/web/loader.py: the assistant loaded lazily, the extractive fallback, and readiness (/readyz)."""

from __future__ import annotations

from web_data import FakeAssistant

from assistant.settings import Settings


def test_loader_falls_back_to_extractive_when_the_llm_cannot_load():
    from assistant.chat import AssistantUnavailable
    from assistant.web.loader import AssistantLoader

    calls = []

    def factory(mode=None):
        calls.append(mode)
        if mode != "extractive":
            raise AssistantUnavailable("LLM-tjänsten svarar inte.")
        return "assistent"

    loader = AssistantLoader(factory, Settings(mode="openai", openai_base_url="http://127.0.0.1:9/v1"))
    assert loader.get() == "assistent" and calls == [None, "extractive"]
    assert "extraktivt läge" in loader.notice and loader.error == ""

    def missing():
        raise AssistantUnavailable("Indexet saknas. Kör `python -m assistant ingest`.")

    loader = AssistantLoader(missing, Settings())
    assert loader.try_get() is None and "ingest" in loader.error


def test_readyz_waits_for_a_configured_model(tmp_path):
    from assistant.web.loader import AssistantLoader

    settings = Settings(index_dir=tmp_path, mode="local")
    loader = AssistantLoader(lambda mode=None: FakeAssistant(warm_fails=True), settings)
    loader.get()
    assert loader._warmed.wait(10)
    assert loader.ready() is False  # the index answers, but the model that was asked for did not load

    class Model:
        ready = False

    fake = FakeAssistant()
    fake.llm = Model()
    loader = AssistantLoader(lambda mode=None: fake, settings)
    loader.get()
    assert loader._warmed.wait(10) and loader.ready() is False
    Model.ready = True
    assert loader.ready() is True
