"""The evaluation: its scoring rules on hand-made results, and one real run on a small subset."""

from __future__ import annotations

import json

import pytest

from evals import metrics
from evals.report import write_report
from evals.runner import QUESTIONS, load_questions, score, select

ANSWERABLE = {
    "id": "t1", "category": "table_value", "question": "Vad är målvärdet för sjukfrånvaro 2028?",
    "answer": "Max 4,5 procent.", "must_contain": [r"(?<!\d)4[,.]5(?!\d)", "procent"],
    "sources": [{"file": "001.txt", "quote": "År 2028 ska: - sjukfrånvaron vara max 4,5 procent."}],
}
UNANSWERABLE = {"id": "t2", "category": "unanswerable", "question": "Vad kostar ett månadskort?",
                "answer": "EJ I DOKUMENTEN", "must_contain": [], "sources": []}


def _answer(text="", refused=False, contexts=(), quotes=()):
    return {"answer": text, "refused": refused, "contexts": [{"text": t} for t in contexts],
            "citations": [{"quote": q} for q in quotes]}


# --- quotes ---------------------------------------------------------------------------------

def test_normalise_keeps_only_lower_case_letters_and_digits():
    assert metrics.normalise("År 2028 ska: - sjukfrånvaron\tvara MAX 4,5 %.") == "år2028skasjukfrånvaronvaramax45"
    assert metrics.normalise("a_b—c\u00a0d") == "abcd"


def test_quote_found_ignores_case_punctuation_and_whitespace():
    text = "HÅLLBARHET\nÅr 2028 ska:\n- sjukfrånvaron vara max 4,5 procent.\n- HME minst 81"
    assert metrics.quote_found("år 2028 ska: - Sjukfrånvaron vara max 4,5 procent", text)
    assert metrics.quote_found("Hälsa- och sjukvårdsnämnd\t5 118\t5 414", "Hälsa och sjukvårdsnämnd 5118 5414 5619")
    assert not metrics.quote_found("max 4,6 procent", text)
    assert not metrics.quote_found("", text)  # an empty quote finds nothing
    assert not metrics.quote_found("...", text)


# --- correctness ----------------------------------------------------------------------------

def test_correct_needs_every_pattern_and_no_refusal():
    assert metrics.is_correct(ANSWERABLE, "Enligt programmet: max 4,5 Procent [1]", refused=False)
    assert metrics.is_correct(ANSWERABLE, "max 4.5 procent", refused=False)
    assert not metrics.is_correct(ANSWERABLE, "max 4,5 %", refused=False)  # one pattern missing
    assert not metrics.is_correct(ANSWERABLE, "max 14,5 procent", refused=False)  # lookbehind holds
    assert not metrics.is_correct(ANSWERABLE, "Det framgår inte. Närmast: max 4,5 procent", refused=True)
    assert metrics.missing_patterns(ANSWERABLE, "4,5 %") == ["procent"]


def test_unanswerable_is_correct_only_when_refused():
    assert metrics.is_correct(UNANSWERABLE, "Det framgår inte av dokumenten.", refused=True)
    assert not metrics.is_correct(UNANSWERABLE, "Det kostar 795 kronor.", refused=False)


def test_a_broken_pattern_counts_as_missing():
    item = {**ANSWERABLE, "must_contain": ["(unclosed"]}
    assert not metrics.is_correct(item, "(unclosed", refused=False)


# --- retrieval and citation hits ------------------------------------------------------------

def test_retrieval_hit_looks_at_the_first_five_contexts_only():
    quote_text = "Fritext. År 2028 ska: - sjukfrånvaron vara max 4,5 procent. Mer."
    assert metrics.retrieval_hit(ANSWERABLE, ["a", "b", quote_text])
    assert not metrics.retrieval_hit(ANSWERABLE, ["a", "b", "c", "d", "e", quote_text])
    assert metrics.retrieval_hit(UNANSWERABLE, ["anything"]) is None
    assert metrics.retrieval_hit({**ANSWERABLE, "sources": []}, ["x"]) is None


def test_citation_hit_needs_the_gold_quote_inside_a_cited_passage():
    assert metrics.citation_hit(ANSWERABLE, ["år 2028 ska - sjukfrånvaron vara max 4,5 procent"])
    assert not metrics.citation_hit(ANSWERABLE, ["sjukfrånvaron vara max 4,5 procent"])  # only part of it
    assert not metrics.citation_hit(ANSWERABLE, [])
    assert metrics.citation_hit(UNANSWERABLE, ["x"]) is None


def test_citation_overlap_accepts_a_cited_line_inside_the_gold_quote():
    around = "År 2028 ska:\n- sjukfrånvaron vara max 4,5 procent.\n- HME minst 81"
    line = "- sjukfrånvaron vara max 4,5 procent."
    assert metrics.citation_overlap(ANSWERABLE, [(line, line, around)])
    assert metrics.citation_overlap(ANSWERABLE, [("x", around, around)])  # every citation hit counts
    # the cited line is in the gold quote, but the rest of the quote is not around it
    assert not metrics.citation_overlap(ANSWERABLE, [(line, line, line)])
    # too short to count: "4,5 procent" lies in many quotes
    assert not metrics.citation_overlap(ANSWERABLE, [("4,5 procent", "4,5 procent", around)])
    assert metrics.citation_overlap(UNANSWERABLE, [("x", "x", "x")]) is None


def test_score_row_records_everything_and_an_error_is_wrong():
    row = score(ANSWERABLE, _answer("max 4,5 procent [1]", contexts=[ANSWERABLE["sources"][0]["quote"]],
                                    quotes=["nope"]), 0.1234)
    assert row["correct"] and row["retrieval_hit"] and row["citation_hit"] is False and row["seconds"] == 0.123
    failed = score(ANSWERABLE, None, 2.0, error="RuntimeError: boom")
    assert not failed["correct"] and failed["error"] and failed["answer"] is None
    assert failed["retrieval_hit"] is False and failed["citation_hit"] is False


# --- summary --------------------------------------------------------------------------------

def _row(cat, correct, refused, ret=None, cit=None, seconds=1.0, error=""):
    return {"id": f"x{id(object())}", "category": cat, "correct": correct, "refused": refused,
            "retrieval_hit": ret, "citation_hit": cit, "seconds": seconds, "error": error}


def test_refusal_metrics_and_accuracy_from_hand_made_results():
    rows = [
        _row("table_value", True, False, True, True, 1.0),
        _row("table_value", False, True, True, False, 2.0),  # a false refusal
        _row("text_fact", False, False, False, False, 3.0),
        _row("text_fact", False, False, None, None, 4.0, error="boom"),  # excluded from latency
        _row("unanswerable", True, True, seconds=5.0),
        _row("unanswerable", False, False, seconds=6.0),
        _row("unanswerable", True, True, seconds=7.0),
    ]
    s = metrics.summarise(rows, "extractive")
    assert s["n"] == 7 and s["mode"] == "extractive" and s["errors"] == 1
    assert s["answer_accuracy"] == round(3 / 7, 4)
    assert s["by_category"] == {"table_value": 0.5, "text_fact": 0.0, "unanswerable": round(2 / 3, 4)}
    assert s["refusal_recall"] == round(2 / 3, 4)
    assert s["false_refusal_rate"] == 0.25  # 1 of 4 answerable refused
    assert s["retrieval_recall_at_5"] == round(2 / 3, 4)  # the None row is not counted
    assert s["citation_hit_rate"] == round(1 / 3, 4)
    assert s["latency_p50_s"] == 4.0  # 1, 2, 3, 5, 6, 7
    assert s["latency_p95_s"] == 6.75
    for key in ("n", "answer_accuracy", "by_category", "retrieval_recall_at_5", "citation_hit_rate",
                "refusal_recall", "false_refusal_rate", "latency_p50_s", "latency_p95_s", "mode"):
        assert key in s


def test_summary_of_a_set_without_unanswerable_items_has_no_refusal_recall():
    s = metrics.summarise([_row("list", True, False, True, True)], "local")
    assert s["refusal_recall"] is None and s["false_refusal_rate"] == 0.0


def test_percentile_interpolates():
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([3.0], 95) == 3.0
    assert metrics.percentile([1, 2, 3, 4], 50) == 2.5


def test_baseline_refusal_phrases():
    for text in ("Det framgår inte av kontexten.", "The context does not mention a 2030 target.",
                 "I don't know.", "Empty Response", "", "Information om detta finns inte... Det nämns inte.",
                 "Kontexten nämner inte 2030.", "The context doesn't mention it.", "No information is given."):
        assert metrics.looks_like_refusal(text), text
    for text in ("Sjukfrånvaron ska vara max 4,5 procent år 2028.", "The target is 81.",
                 "Inget överskott budgeteras; resultatet är -150 mnkr.", "Det ger inte mer än 2 %."):
        assert not metrics.looks_like_refusal(text), text


# --- selection ------------------------------------------------------------------------------

def test_limit_takes_the_categories_in_turn_and_keeps_file_order():
    qs = [{"id": f"a{i}", "category": "a"} for i in range(5)] + [{"id": f"b{i}", "category": "b"} for i in range(2)]
    picked = select(qs, 5)
    assert [q["id"] for q in picked] == ["a0", "a1", "a2", "b0", "b1"]
    assert select(qs, 5) == picked
    assert [q["id"] for q in select(qs, None, ids=["b1", "a3"])] == ["a3", "b1"]
    assert len(select(qs, 100)) == 7


def test_report_and_chart_are_written_with_a_comparison(tmp_path):
    from evals.report import write_report

    rows = [score(ANSWERABLE, _answer("max 4,5 procent"), 0.5), score(UNANSWERABLE, _answer("795 kr"), 0.7)]
    other_dir = tmp_path / "baseline"
    other_dir.mkdir()
    other_rows = [score(ANSWERABLE, _answer("vet inte", refused=True), 9.0)]
    other = metrics.summarise(other_rows, "local", "baseline")
    (other_dir / "summary.json").write_text(json.dumps(other), encoding="utf-8")
    (other_dir / "results.jsonl").write_text("\n".join(json.dumps(r) for r in other_rows), encoding="utf-8")
    summary = metrics.summarise(rows, "extractive")
    path = write_report(tmp_path, summary, rows, other_dir)
    text = path.read_text(encoding="utf-8")
    assert "table_value" in text and "baseline" in text and "svarade i stället för att avböja" in text
    assert "På de 1 frågor" in text
    assert (tmp_path / "accuracy_by_category.png").stat().st_size > 1000


# --- the question file and a real run -------------------------------------------------------

def test_question_file_loads():
    if not QUESTIONS.is_file():
        pytest.skip("evals/questions.jsonl saknas")
    qs = load_questions(QUESTIONS)
    assert len(qs) >= 15 and all(q["category"] for q in qs)


# Observed in extractive mode (index of 2026-11-23): 0.565 on all 214 questions, and 8 of 15 (0.53)
# on these 15 (`select` takes the categories in turn: 3 table_value, 2 of each other category),
# with the gold quote among the first 5 contexts for all 13 answerable ones. The floors sit below
# that (6 of 15; 10 of 13) so the test catches a broken pipeline -- nothing answered, everything
# refused (that scores 2 of 15), retrieval gone -- and not a change in one answer's wording. It is
# a smoke test of the runner; the quality figures are in evals/out/ after `python -m evals run`.
ACCURACY_FLOOR = 0.4
RETRIEVAL_FLOOR = 0.75


@pytest.mark.slow
def test_runner_on_a_subset_in_extractive_mode(assistant, tmp_path):
    from evals.runner import AssistantSystem, run

    questions = select(load_questions(QUESTIONS), 15)
    summary = run(AssistantSystem(assistant, "extractive"), questions, tmp_path, progress=False)
    for name in ("results.jsonl", "summary.json", "report.md", "accuracy_by_category.png"):
        assert (tmp_path / name).is_file(), name
    saved = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    for key in ("n", "answer_accuracy", "by_category", "retrieval_recall_at_5", "citation_hit_rate",
                "refusal_recall", "false_refusal_rate", "latency_p50_s", "latency_p95_s", "mode"):
        assert key in saved, key
    assert saved["n"] == 15 and saved["mode"] == "extractive" and saved["errors"] == 0
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 15
    for row in rows:
        assert {"id", "category", "correct", "refused", "retrieval_hit", "citation_hit", "seconds", "answer"} <= set(row)
        assert {"answer", "refused", "citations", "contexts"} <= set(row["answer"])
    assert summary["answer_accuracy"] >= ACCURACY_FLOOR, summary
    assert summary["retrieval_recall_at_5"] >= RETRIEVAL_FLOOR, summary


# --- strict scoring ---------------------------------------------------------------------------

COMPARISON = {
    "id": "t3", "category": "comparison", "question": "Sjukfrånvaro 2022 – stämmer dokumenten?",
    "answer": "Hållbarhetsprogrammet 6,2 %, delårsrapporten 7,2 %.",
    "must_contain": [r"(?<!\d)6[,.]2(?!\d)", r"(?<!\d)7[,.]2(?!\d)"], "sources": [],
}
LIST = dict(ANSWERABLE, id="t4", category="list")


@pytest.mark.parametrize("text", [
    "Enligt Hållbarhetsprogram 2024–2028 (program): sjukfrånvaron ska vara max 4,5 procent år 2028 [1].",
    "Max 4,5 procent [1]. Budgeten omsluter 1 515 mnkr 2021 och 2 000 mnkr 2022 [2].",  # thousands separators
    "The target is at most 4.5 percent in 2028 (Hållbarhetsprogram 2024–2028) [1].",
])
def test_concise_answers_pass_strict(text):
    item = dict(ANSWERABLE, must_contain=[r"(?<!\d)4[,.]5(?!\d)"])
    assert metrics.strict_problems(item, text) == []
    assert metrics.is_strict_correct(item, text, refused=False)


@pytest.mark.parametrize("text, problem", [
    ("Sjukfrånvaro\t4,5 procent\t5,1\t6,2", "tabellrad"),  # a tab-separated row
    ("Sjukfrånvaro procent 4,5 5,1 6,2 7,0 [1]", "tabellrad"),  # four bare numbers in a row
    ("Sjukfrånvaro 64 % 65 % 64 % 4,5 procent", "tabellrad"),
    ("Max 4,5 procent. Läs mer: https://www.regionkronoberg.se/a https://www.1177.se/b", "url-block"),
    ("Max 4,5 procent. " + "Mer text om mål och mått i programmet. " * 12, "för långt"),
])
def test_dumps_and_long_answers_fail_strict_but_not_regex(text, problem):
    assert problem in metrics.strict_problems(ANSWERABLE, text)
    assert metrics.is_correct(ANSWERABLE, text, refused=False)  # the regex verdict stays as before
    assert not metrics.is_strict_correct(ANSWERABLE, text, refused=False)


def test_one_url_or_three_numbers_are_not_a_dump():
    assert not metrics.is_dump("Mer på www.regionkronoberg.se. Värdena 2021 var 4,5 och 5,1.")
    assert not metrics.pastes_table_row("1 515 mnkr och 2 000 mnkr")  # thousands separators
    assert metrics.pastes_table_row("1 515 2 000 2 500")  # a row pasted as it is


def test_lists_and_comparisons_may_be_longer_but_not_unbounded():
    text = "Max 4,5 procent. " + "Punkt i listan om mål. " * 25  # ~600 characters
    assert "för långt" in metrics.strict_problems(ANSWERABLE, text)
    assert "för långt" not in metrics.strict_problems(LIST, text)
    assert "för långt" in metrics.strict_problems(LIST, text * 2)


def test_comparison_must_name_two_documents():
    one = "Sjukfrånvaron var 6,2 % och 7,2 % enligt hållbarhetsprogrammet [1]."
    two = "Hållbarhetsprogrammet anger 6,2 % [1], delårsrapporten per mars 2024 7,2 % [2]."
    assert metrics.strict_problems(COMPARISON, one) == ["ett dokument"]
    assert metrics.strict_problems(COMPARISON, two) == []
    assert metrics.documents_named("Allians för Kronobergs budgetförslag och Budget 2021") == {
        "002_b12d27c0afef24ca.txt", "000_9b54efb63f6214a5.txt"}


def test_strict_refusals_and_wrong_answers():
    assert metrics.is_strict_correct(UNANSWERABLE, "Det framgår inte av dokumenten.", refused=True)
    assert not metrics.is_strict_correct(UNANSWERABLE, "795 kr", refused=False)
    assert not metrics.is_strict_correct(ANSWERABLE, "Max 5 procent.", refused=False)


def test_summary_has_strict_figures_and_dump_rate():
    rows = [score(ANSWERABLE, _answer("max 4,5 procent [1]"), 0.1),
            score(dict(ANSWERABLE, id="t5"), _answer("Sjukfrånvaro\t4,5 procent\t5,1"), 0.1),
            score(UNANSWERABLE, _answer("Det framgår inte.", refused=True), 0.1)]
    s = metrics.summarise(rows, "extractive")
    assert s["answer_accuracy"] == 1.0
    assert s["strict_accuracy"] == round(2 / 3, 4)
    assert s["by_category_strict"] == {"table_value": 0.5, "unanswerable": 1.0}
    assert s["dump_rate"] == 0.5  # of the two answers given, refusals not counted
    assert rows[1]["strict_problems"] == ["tabellrad"] and rows[1]["dump"]


def test_summary_and_report_count_the_deciding_rules(tmp_path):
    def decided(item, text, rule, refused=False):
        return score(item, dict(_answer(text, refused=refused), decision={"rule": rule, "signals": {}, "steps": []}), 0.1)

    rows = [decided(ANSWERABLE, "max 4,5 procent [1]", "table_value"),
            decided(dict(ANSWERABLE, id="t5"), "inget om saken [1]", "table_value"),
            decided(UNANSWERABLE, "Det framgår inte.", "refused_unlikely", refused=True)]
    s = metrics.summarise(rows, "extractive")
    assert s["decisions"] == {"table_value": {"n": 2, "strict": 0.5}, "refused_unlikely": {"n": 1, "strict": 1.0}}
    report = write_report(tmp_path, s, rows).read_text(encoding="utf-8")
    assert "## Beslutsregler" in report and "| table_value | 2 | 50.0 % |" in report


def test_paraphrase_consistency_counts_same_verdicts():
    verdicts = {"q1": True, "q2": False}
    assert metrics.paraphrase_consistency(verdicts, [("q1", True), ("q1", False), ("q2", False), ("q2", False)]) == 0.75
    assert metrics.paraphrase_consistency(verdicts, []) is None


class _Echo:
    """A system that answers every question with the same text (the runner's logic, not an engine)."""

    name, mode = "assistant", "extractive"

    def __init__(self, text):
        self.text = text

    def answer(self, item):
        return _answer(self.text, refused=False)


def test_sealed_run_keeps_aggregates_only(tmp_path):
    from evals.runner import run

    items = [dict(ANSWERABLE, id="t001", question="HEMLIG FRÅGA ett"),
             dict(UNANSWERABLE, id="t002", question="HEMLIG FRÅGA två")]
    (tmp_path / "results.jsonl").write_text("gammal rad\n", encoding="utf-8")  # an earlier, unsealed run
    summary = run(_Echo("max 4,5 procent"), items, tmp_path, progress=False, sealed=True,
                  extra={"split": "test"})
    assert summary["n"] == 2 and summary["sealed"] and summary["answer_accuracy"] == 0.5
    assert not (tmp_path / "results.jsonl").exists()
    for path in tmp_path.iterdir():
        if path.suffix in (".md", ".json"):
            text = path.read_text(encoding="utf-8")
            assert "HEMLIG" not in text and "t001" not in text, path.name


def test_paraphrase_run_and_generalisation_gap(tmp_path):
    from evals.runner import run

    dev_items = [dict(ANSWERABLE, id="q1"), dict(ANSWERABLE, id="q2", must_contain=["81"])]
    rewrites = [dict(ANSWERABLE, id="q1-p1", of="q1", question="personalens sjukdagar 2028?"),
                dict(ANSWERABLE, id="q2-p1", of="q2", must_contain=["81"], question="HME 2028?")]
    test_dir, dev_dir = tmp_path / "test", tmp_path / "dev"
    run(_Echo("max 4,5 procent"), [dict(ANSWERABLE, id="t001", must_contain=["81"])], test_dir,
        progress=False, sealed=True, extra={"split": "test"})
    dev = run(_Echo("max 4,5 procent"), dev_items, dev_dir, progress=False, extra={"split": "dev"},
              paraphrases=rewrites, compare_dir=test_dir)
    assert dev["paraphrase_consistency"] == 1.0 and dev["paraphrase_accuracy"] == 0.5
    assert dev["generalisation_gap"] == {"answer_accuracy": 0.5, "strict_accuracy": 0.5}
    assert (dev_dir / "paraphrase_results.jsonl").is_file()
    report = (dev_dir / "report.md").read_text(encoding="utf-8")
    assert "Generaliseringsgap" in report and "strikt" in report and "Omskrivna dev-frågor" in report
