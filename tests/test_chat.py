"""The assistant end to end on the real index: answers, citations, refusals, bad input, follow-ups,
and the logic around an LLM (verification, fallback) with a deterministic stand-in model."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant import prompts
from assistant.chat import Assistant, AssistantUnavailable
from assistant.conversation import standalone_question
from assistant.document_names import DocumentNames
from assistant.generation import llm_messages
from assistant.llm import LLMUnavailable, LocalModelServer
from assistant.settings import PROJECT_ROOT

EXAMPLE = "Vad är målvärdet för sjukfrånvaro 2028?"

pytestmark = pytest.mark.slow


class ScriptedLLM:
    """Stands in for a model: answers with a fixed text, or fails like an unreachable endpoint."""

    name = "scripted"

    def __init__(self, text: str = "", fail: bool = False) -> None:
        self.text, self.fail, self.calls = text, fail, []

    def stream(self, messages, max_tokens):
        self.calls.append(messages)
        if self.fail:
            raise LLMUnavailable("LLM-tjänsten svarar inte")
        yield from self.text.split(" ")[:1]
        for word in self.text.split(" ")[1:]:
            yield " " + word


def test_example_question_gets_the_target_with_its_source(assistant):
    answer = assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?")
    assert not answer.refused and "4,5" in answer.text
    citation = answer.citations[0]
    assert citation.source_file == "001_d436ddedb8252149.txt"
    assert "4,5" in citation.quote and citation.line_start <= 458 <= citation.line_end
    assert "[1]" in answer.text


def test_opposition_proposal_is_named_as_such(assistant):
    answer = assistant.ask("Hur stor är driftramen för trafiknämnden 2026?")
    assert not answer.refused
    if any(c.source_file.startswith("002") for c in answer.citations):
        assert "förslag" in answer.text


def test_unrelated_question_is_refused_with_nearest_passages(assistant):
    answer = assistant.ask("Vem vann fotbolls-VM i Chile 1962 och hur många mål gjordes i finalen?")
    assert answer.refused and answer.text.startswith("Det framgår inte av dokumenten.")


def test_the_corpus_synonyms_are_read_and_a_broken_file_stops_the_start_naming_it(assistant, tmp_path):
    assert "sjukfrånvaro" in assistant.synonyms.terms_for("what is the sick leave target?")
    (tmp_path / "synonyms.toml").write_text("[[term]\n", encoding="utf-8")
    with pytest.raises(AssistantUnavailable, match="synonyms.toml"):
        Assistant.load(assistant.settings.with_(corpus_dir=tmp_path), embedder=assistant.embedder)


def test_a_year_the_documents_do_not_have_is_refused_saying_so(assistant):
    answer = assistant.ask("Hur hög var sjukfrånvaron i Region Kronoberg år 2019 i procent?")
    assert answer.refused and answer.decision.rule == "refused_year"
    assert "inget värde för 2019" in answer.text and answer.citations


def test_a_programme_row_is_no_value_for_a_year_inside_the_programmes_period(assistant):
    # Hållbarhetsprogram 2024–2028 speaks of 2026 by its period, but its targets are for 2028
    refused = assistant.ask("Hur stor ska den faktiska sysselsättningsgraden vara 2026 enligt hållbarhetsprogrammet?")
    assert refused.refused and refused.decision.rule == "refused_year"
    assert "inget värde för 2026" in refused.text and "2028" in refused.text
    answered = assistant.ask("Hur stor ska den faktiska sysselsättningsgraden vara 2028 enligt hållbarhetsprogrammet?")
    assert not answered.refused and "88 procent" in answered.text


@pytest.mark.parametrize("question", ["", "   \n\t ", "x" * 20_000, "\x00\x07\u200b", "😀🎉🙂",
                                      "'; DROP TABLE cells; --", "Wie hoch ist der Krankenstand 2028?"])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(assistant, question):
    store = assistant.index.tables_path
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    answer = assistant.ask(question)
    assert answer.text and "Traceback" not in answer.text
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_follow_up_is_rewritten_from_history():
    history = [{"role": "user", "content": "Vad är målvärdet för sjukfrånvaro 2028?"},
               {"role": "assistant", "content": "Max 4,5 procent [1]."}]
    assert "2027" in standalone_question("och 2027?", history).text
    rewrite = standalone_question("och hållbart medarbetarengagemang samma år?", history)
    assert "2028" in rewrite.focus and "medarbetarengagemang" in rewrite.focus
    assert standalone_question("Vad är regionens vision?", history).text == "Vad är regionens vision?"


def test_conversations_do_not_share_state(assistant):
    a = [{"role": "user", "content": "Vad är målvärdet för sjukfrånvaro 2028?"}, {"role": "assistant", "content": "4,5"}]
    b = [{"role": "user", "content": "Hur stor är driftramen för trafiknämnden 2026?"}, {"role": "assistant", "content": "…"}]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda h: assistant.ask("och 2027?", h), [a, b, a, b]))
    assert "sjukfrånvaro" in results[0].standalone_question and "trafiknämnden" in results[1].standalone_question
    assert results[0].standalone_question == results[2].standalone_question
    assert results[1].standalone_question == results[3].standalone_question


def _with_llm(assistant, llm) -> Assistant:
    return Assistant(assistant.settings.with_(mode="local"), assistant.index, assistant.embedder, llm)


def test_llm_answer_with_supported_numbers_passes(assistant):
    llm = ScriptedLLM("Sjukfrånvaron ska vara högst 4,5 procent år 2028 [1].")
    answer = _with_llm(assistant, llm).ask("Vad är målvärdet för sjukfrånvaro 2028?")
    assert answer.verification == "passed" and answer.mode == "local"
    assert "4,5" in answer.text and answer.citations and llm.calls
    prompt = llm.calls[0][-1]["content"]
    assert "4,5" in prompt and "Fråga:" in prompt


def test_llm_answer_with_an_invented_number_is_replaced(assistant):
    llm = ScriptedLLM("Sjukfrånvaron ska vara högst 3,9 procent år 2028 [1].")
    answer = _with_llm(assistant, llm).ask("Vad är målvärdet för sjukfrånvaro 2028?")
    assert answer.verification == "replaced_by_extractive" and answer.mode == "extractive"
    assert "3,9" not in answer.text and "4,5" in answer.text and answer.notice


def test_unreachable_llm_falls_back_to_extractive(assistant):
    answer = _with_llm(assistant, ScriptedLLM(fail=True)).ask("Vad är målvärdet för sjukfrånvaro 2028?")
    assert answer.mode == "extractive" and "4,5" in answer.text and "extraktivt" in answer.notice


def test_streaming_shows_what_is_known_before_the_prose(assistant):
    events = list(_with_llm(assistant, ScriptedLLM("Högst 4,5 procent [1].")).ask_stream(
        "Vad är målvärdet för sjukfrånvaro 2028?"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "draft" and "4,5" in events[0].text and events[0].answer.citations
    assert "delta" in kinds and kinds[-1] == "final"
    final = events[-1].answer
    assert "".join(e.text for e in events if e.kind == "delta") == final.text  # what streamed is the answer
    assert final.timings["first_verified_s"] <= final.timings["total_s"]


def test_model_text_that_fails_verification_never_streams(assistant):
    llm = ScriptedLLM("Sjukfrånvaron ska vara högst 3,9 procent år 2028 [1]. Det är ett mål.")
    events = list(_with_llm(assistant, llm).ask_stream(EXAMPLE))
    assert not [e for e in events if e.kind == "delta"]  # the draft stays until the final answer
    assert events[-1].answer.verification == "replaced_by_extractive" and "4,5" in events[-1].answer.text


def test_cli_ask_json(settings, built_index):
    env = {**os.environ, "KRONOBERG_CORPUS_DIR": str(settings.corpus_dir), "KRONOBERG_INDEX_DIR": str(settings.index_dir),
           "KRONOBERG_MODELS_DIR": str(settings.models_dir)}
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", "Vad är målvärdet för sjukfrånvaro 2028?"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"answer", "refused", "citations", "contexts", "mode", "timings"} <= set(data)
    assert {"source_file", "file", "title", "section", "line_start", "line_end", "page", "quote"} <= set(data["citations"][0])
    assert {"text", "source_file", "line_start", "line_end", "score"} <= set(data["contexts"][0])


def test_cli_without_index_says_how_to_build_it(tmp_path):
    env = {**os.environ, "KRONOBERG_INDEX_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", "fråga"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "python -m assistant ingest" in done.stderr and "Traceback" not in done.stderr


class RecordingServer(LocalModelServer):
    """The local backend without its server process: records what it is asked to read."""

    def __init__(self) -> None:
        self.calls, self.name = [], "recording"

    def warm_up(self, messages):
        self.calls.append(messages)

    def stream(self, messages, max_tokens):
        self.calls.append(messages)
        yield "Högst 4,5 procent [1]."


def test_warm_up_reads_the_system_prompt_that_every_question_starts_with(assistant):
    llm = RecordingServer()
    warmed = _with_llm(assistant, llm)
    warmed.warm_up_llm()
    warmed.ask("Vad är målvärdet för sjukfrånvaro 2028?")
    warm, asked = llm.calls
    assert warm[0] == asked[0] and warm[0]["role"] == "system"  # the cached prefix is the whole system prompt
    assert "4,5" not in warm[1]["content"]
    _with_llm(assistant, ScriptedLLM()).warm_up_llm()  # only the local model is warmed: nothing to call


def _listening_addresses(port: int) -> list[str]:
    """The local addresses of TCP sockets listening on `port` (IPv4 and IPv6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, p = local.rsplit(":", 1)
            if state == "0A" and int(p, 16) == port:
                found.append(address)
    return found


@pytest.mark.llm
def test_local_mode_answers_through_the_model_server_on_loopback(assistant, local_llm):
    bot = _with_llm(assistant, local_llm)
    bot.warm_up_llm()
    server = local_llm.server
    proc, url = server.proc, server.base_url
    assert proc.pid != os.getpid() and proc.poll() is None  # the model is another process
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    assert url.startswith("http://127.0.0.1:") and _listening_addresses(port) == ["0100007F"]  # 127.0.0.1 only
    events = list(bot.ask_stream(EXAMPLE))
    answer = events[-1].answer
    assert "4,5" in answer.text and not answer.refused
    assert answer.verification in {"passed", "passed_in_part", "replaced_by_extractive", "llm_refusal_replaced"}
    assert answer.timings["generation_s"] > 0
    streamed = "".join(e.text for e in events if e.kind == "delta")
    assert streamed == (answer.text if answer.mode == "local" else "")  # only verified text streamed
    # The warm-up read the system prompt; the question read only what follows it (the server's log).
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    system = f"<|im_start|>system\n{llm_messages(EXAMPLE, [], 'sv')[0]['content']}<|im_end|>"
    request = urllib.request.Request(url.removesuffix("/v1") + "/extras/tokenize", method="POST",
                                     data=json.dumps({"input": system}).encode(),
                                     headers={"Content-Type": "application/json"})
    whole = len(json.load(opener.open(request, timeout=60))["tokens"])
    time.sleep(0.5)  # the log is read by a thread
    hits = [int(n) for n in re.findall(r"(\d+) prefix-match hit", "\n".join(server.log_tail()))]
    assert hits and hits[-1] >= whole - 2, (hits, whole)


@pytest.mark.llm
@pytest.mark.parametrize("fault", ["SIGKILL", "SIGSTOP"], ids=["killed", "hung"])
def test_a_model_server_that_dies_mid_answer_does_not_stop_the_app(assistant, local_llm, fault):
    bot = _with_llm(assistant, local_llm)
    bot.warm_up_llm()
    server = local_llm.server
    victim = server.proc.pid
    sent = threading.Event()

    def strike():  # while the model reads the prompt of a question
        while not server.busy:
            time.sleep(0.02)
        time.sleep(1.0)
        os.kill(victim, getattr(signal, fault))
        sent.set()

    threading.Thread(target=strike, daemon=True).start()
    events = list(bot.ask_stream(EXAMPLE))
    answer = events[-1].answer
    assert sent.is_set()
    # the answer in flight: the extractive answer, with the notice
    assert answer.mode == "extractive" and answer.verification == "llm_unavailable", answer.verification
    assert answer.notice == prompts.NOTICE_LLM_DOWN and "4,5" in answer.text and answer.citations
    # the next question is answered (by the model if it is back within the timeout, else extractively)
    following = bot.ask("Vad är målvärdet för sjukfrånvaro 2027?")
    assert following.text and not following.refused and following.citations
    assert following.verification != "llm_unavailable" or following.notice == prompts.NOTICE_LLM_DOWN
    # and the model comes back: a new process, answering
    server.wait_ready(300)
    assert server.proc.pid != victim and server.restarts >= 1
    back = bot.ask(EXAMPLE)
    assert back.verification != "llm_unavailable" and back.timings["generation_s"] > 0


def test_a_list_question_gets_the_items_after_the_intro(assistant):
    answer = assistant.ask("Vilka vägledande principer har Nära Kronobergaren?")
    assert not answer.refused and answer.text.count("•") >= 4
    cited = answer.citations[0]
    assert cited.line_end > cited.line_start  # the citation spans the items, not just the intro


@pytest.mark.parametrize("question", [
    "Vad är Region Skånes skattesats 2025?",  # another region: Kronoberg's rate is no answer
    "Hur många ambulanser levererades under början av 2024?",  # the passage says delivered, no number
    "Hur många anställda hade Region Kronoberg enligt Budget 2021?",  # no passage gives a number
    "Hur stor andel av invånarna i Kronoberg har fetma enligt Nära Kronobergaren?",  # an indicator without a value
    "Vilket datum antog regionfullmäktige Hållbarhetsprogram 2024–2028?",  # no date in the passages
])
def test_near_misses_are_refused_with_the_nearest_passages(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused and answer.text.startswith("Det framgår inte av dokumenten.")
    assert answer.citations  # the nearest passages are shown


def test_a_comparison_gives_each_named_documents_value(assistant):
    answer = assistant.ask("Vad var sjukfrånvaron 2022 – stämmer hållbarhetsprogrammet och delårsrapporten överens?")
    files = {c.file for c in answer.citations}
    assert {"hallbarhetsprogram-2024-2028.txt", "delarsrapport-mars-2024.txt"} <= files
    assert "olika värden" in answer.text


def test_a_quoted_value_finds_its_column(assistant):
    answer = assistant.ask("Vilket år avser alliansens driftsram på 5 853 mnkr för hälso- och sjukvårdsnämnden?")
    assert not answer.refused and answer.cells
    assert all(c.value == 5853 for c in answer.cells) and "2027" in answer.text


def test_follow_up_naming_another_document_keeps_the_topic():
    names = DocumentNames({"budget2021.txt": ["budget 2021"], "forslag.txt": ["budgetförslag", "budgetförslaget"]})
    history = [{"role": "user", "content": "Vilken låneram beviljas i Budget 2021?"},
               {"role": "assistant", "content": "500 mnkr [1]."}]
    rewrite = standalone_question("och i alliansens budgetförslag för 2025?", history, names)
    assert "låneram" in rewrite.text and "budgetförslag" in rewrite.text and "Budget 2021" not in rewrite.text
    rewrite = standalone_question("vad var målet för året?", [
        {"role": "user", "content": "Vad var Nöjd kund-index för buss och tåg per mars 2024?"}])
    assert "Nöjd kund-index" in rewrite.text and "målet" in rewrite.text


def test_a_follow_up_to_a_follow_up_goes_back_to_the_first_question():
    history = [{"role": "user", "content": "Hur många akutläkartjänster vill Allians för Kronoberg ha 2025?"},
               {"role": "assistant", "content": "20 tjänster [1]."},
               {"role": "user", "content": "Och 2027?"},
               {"role": "assistant", "content": "35 tjänster [1]."}]
    rewrite = standalone_question("Vilket dokument säger det?", history)
    assert "akutläkartjänster" in rewrite.text and "2027" in rewrite.text and "2025" not in rewrite.text


def test_which_ones_after_how_many_names_them_instead_of_counting_again(assistant):
    history = [{"role": "user", "content": "Hur många yrkesgrupper har en framtagen karriärmodell per mars 2024?"},
               {"role": "assistant", "content": "5 yrkesgrupper [1]."}]
    answer = assistant.ask("vilka är det?", history)
    assert not answer.refused and not answer.cells
    assert "sjuksköterskor" in answer.text.lower()


def test_an_outcome_is_not_answered_by_a_target(assistant):
    answer = assistant.ask("Vad blev utfallet för antal 'Fysisk aktivitet på recept' under 2021?")
    assert answer.refused
    assert "Fysisk aktivitet på recept" in answer.citations[0].quote  # the measure's targets, shown as nearest


def test_a_when_question_gets_the_sentence_with_the_time(assistant):
    answer = assistant.ask("När väntas Fehmarn Bält-tunneln vara klar enligt alliansens budget?")
    assert not answer.refused and "2029" in answer.text and not answer.cells


def test_a_question_of_two_parts_gets_both(assistant):
    answer = assistant.ask("Hur stor andel av sjukvårdsbudgeten går till primärvården i Kronoberg jämfört med riket "
                           "enligt alliansen?")
    assert "17,2" in answer.text and "18,8" in answer.text and len(answer.citations) == 2
    one_part = assistant.ask("Hur stor andel av sjukvårdsbudgeten går till primärvården i Kronoberg enligt alliansen?")
    assert "18,8" not in one_part.text  # no second sentence for a question that asks one thing


def test_a_quarter_is_not_a_year_the_full_year_value_is_shown_beside_it(assistant):
    answer = assistant.ask("I delårsrapporten står sjukfrånvaron 'Utfall 2023' som 6 %. Är det helårssiffran för 2023?")
    assert "6 %" in answer.text and "5,4" in answer.text
    assert {c.file for c in answer.citations} >= {"delarsrapport-mars-2024.txt",
                                                  "budgetforslag-2025-2027-allians-for-kronoberg.txt"}
    assert "inte ett helårsutfall" in answer.text  # the interim report says what its figure is


def test_the_passage_holding_the_table_value_is_the_first_context(assistant):
    answer = assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?")
    cell = answer.cells[0]
    first = answer.contexts[0].chunk
    assert first.file == cell.file and cell.line in first.lines


@pytest.mark.slow
def test_a_table_row_is_never_pasted_as_an_answer(assistant):
    """A "sentence" that is a table row ("… karriärmodell 5 0 10 …") is given as the row's values, each
    with its column; a question for items gets the items written beside the row."""
    from evals.metrics import pastes_table_row

    values = assistant.ask("Vad var sjukfrånvaron i delårsrapporten?")
    assert not values.refused and values.cells and not pastes_table_row(values.text)
    assert all(c.column in values.text for c in values.cells)
    items = assistant.ask("För vilka yrkesgrupper är karriärmodellerna klara enligt delårsrapporten?")
    assert not items.refused and not pastes_table_row(items.text)
    assert "barnmorskor" in items.text


def test_a_question_that_may_continue_the_last_turn_is_read_the_likelier_way(assistant):
    history = [{"role": "user", "content": "Vilket uppdrag om palliativ vård finns i Budget 2021?"},
               {"role": "assistant", "content": "Sjukhusvården, primärvården och palliativa teamet ska utreda … [1]"}]
    framed = assistant.ask("Vilken nämnd har fått ansvaret för att genomföra uppdraget?", history)
    assert not framed.refused and "HSN" in framed.text and "palliativ" in framed.standalone_question
    independent = assistant.ask("Vad är målvärdet för sjukfrånvaro 2028?", history)
    assert independent.standalone_question == "Vad är målvärdet för sjukfrånvaro 2028?"
    assert re.search(r"4[,.]5", independent.text)


def test_a_follow_up_reads_the_topic_from_the_assistants_own_earlier_answer(assistant):
    first = "What is the target for antibiotic prescriptions in the sustainability programme?"
    earlier = assistant.ask(first)
    assert not earlier.refused and "250" in earlier.text
    follow_up = "And what was the level in the first half of 2023?"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": earlier.text}]
    answer = assistant.ask(follow_up, history)
    assert not answer.refused and "274" in answer.text
    assert "uthämtade" not in answer.standalone_question  # the earlier answer's words are read, not asked


def test_a_follow_up_on_a_new_item_is_not_answered_by_the_row_just_given(assistant):
    first = "Hur många kunder vet hur de kan åka kollektivt enligt delårsrapporten?"
    earlier = assistant.ask(first)
    assert "Kunder - För de flesta" in earlier.text and "84" in earlier.text
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": earlier.text}]
    answer = assistant.ask("och bland allmänheten?", history)
    assert not answer.refused
    assert "Kunder - För de flesta" not in answer.text  # the row the earlier answer came from
    # the public's row, by the match of its label or, failing that, by the not_repeated step
    assert "Allmänhet - För de flesta" in answer.text and "61 %" in answer.text
