"""report.md and the accuracy-per-category chart, optionally side by side with another run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import metrics
from .results import read_results

CHART = "accuracy_by_category.png"
FAILURE_EXAMPLES = 4

_LABELS = [
    ("answer_accuracy", "Rätt svar (answer_accuracy)", "pct"),
    ("strict_accuracy", "Rätt och koncist (strict_accuracy)", "pct"),
    ("dump_rate", "Svar med inklistrad tabellrad eller URL-block (dump_rate)", "pct"),
    ("paraphrase_accuracy", "Omskrivna dev-frågor rätt (paraphrase_accuracy)", "pct"),
    ("paraphrase_consistency", "Omskrivningar med samma utslag som originalet (paraphrase_consistency)", "pct"),
    ("retrieval_recall_at_5", "Guldcitat bland 5 första kontexterna (retrieval_recall_at_5)", "pct"),
    ("citation_hit_rate", "Guldcitat i en källhänvisning (citation_hit_rate)", "pct"),
    ("citation_overlap_rate", "Källhänvisning i guldcitatet, ±1 rad (citation_overlap_rate)", "pct"),
    ("refusal_recall", "Obesvarbara som avböjs (refusal_recall)", "pct"),
    ("false_refusal_rate", "Besvarbara som avböjs (false_refusal_rate)", "pct"),
    ("latency_p50_s", "Svarstid p50 (s)", "s"),
    ("latency_p95_s", "Svarstid p95 (s)", "s"),
    ("errors", "Frågor som gav undantag", "int"),
    ("n", "Antal frågor", "int"),
]


def _fmt(value: Any, kind: str = "pct") -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f} %"
    if kind == "s":
        return f"{value:.2f}"
    return str(value)


def _title(summary: dict[str, Any]) -> str:
    split = f", {summary['split']}" if summary.get("split") else ""
    if summary.get("system") == "baseline":
        return f"baseline ({summary.get('baseline', 'llama-index')}, {summary.get('mode')}{split})"
    return f"assistenten ({summary.get('mode')}{split})"


def load_compare(compare_dir: Path | None):
    if compare_dir is None:
        return None, []
    summary, rows = read_results(Path(compare_dir))
    return summary, rows


def by_category(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    return metrics.summarise(rows, "-")["by_category"] if rows else {}


def failure_causes(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per category: why the wrong answers were wrong."""
    causes: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["correct"]:
            continue
        cat = causes.setdefault(r["category"], {})
        cat[failure_cause(r)] = cat.get(failure_cause(r), 0) + 1
    return causes


def failure_cause(row: dict[str, Any]) -> str:
    if row.get("error"):
        return "undantag"
    if row["category"] == metrics.UNANSWERABLE:
        return "svarade i stället för att avböja"
    found = "kontext träffad" if row.get("retrieval_hit") else "kontext missad"
    if row["refused"]:
        return f"avböjde ({found})"
    return f"fel värde/text ({found})"


def write_report(out_dir: Path, summary: dict[str, Any], rows: list[dict[str, Any]],
                 compare_dir: Path | None = None) -> Path:
    """Writes `report.md` (and the chart) into `out_dir`; `compare_dir` holds a run to set beside it."""
    out_dir = Path(out_dir)
    other, other_rows = load_compare(compare_dir)
    chart = write_chart(out_dir / CHART, summary, other)
    cats = _categories(summary, other)
    lines = _header(summary, other, compare_dir)
    lines += _summary_section(summary, other)
    lines += _category_section(summary, other, cats)
    lines += _decision_section(summary)
    lines += _paraphrase_section(summary)
    lines += _common_questions_section(summary, other, rows, other_rows)
    if chart:
        lines += ["", f"![Andel rätt per kategori]({chart.name})"]
    lines += _strict_problems_section(rows)
    lines += _failure_sections(rows, cats)
    path = out_dir / "report.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def _header(summary: dict[str, Any], other: dict[str, Any] | None, compare_dir: Path | None) -> list[str]:
    """Title, when and on what the run was made, what it is compared with, the baseline's caveat."""
    lines = [f"# Utvärdering: {_title(summary)}", ""]
    lines.append(f"Körd {summary.get('started_at', '?')} på {summary['n']} frågor"
                 + (f" (urval `--limit {summary['limit']}`)" if summary.get("limit") else "")
                 + f", {summary.get('wall_s', '?')} s totalt. Frågefil: `{summary.get('questions', '?')}`.")
    if other:
        lines.append(f"Jämförs med {_title(other)} i `{compare_dir}` ({other['n']} frågor).")
    for s_ in (summary, other or {}):
        if s_.get("system") == "baseline":
            lines.append(f"Baslinjen hämtar bara {s_.get('baseline_top_k', 2)} kontexter per fråga (så dess retrieval@5 "
                         "är recall@2) och hänvisar till hela delar, inte meningar; en följdfråga ställs utan historik.")
            break
    return lines


def _summary_section(summary: dict[str, Any], other: dict[str, Any] | None) -> list[str]:
    """The headline figures (side by side with the compared run), the sealed note and the gap."""
    lines = ["", "## Sammanfattning", ""]
    head = f"| mått | {_title(summary)} |" + (f" {_title(other)} |" if other else "")
    lines += [head, "|---|---:|" + ("---:|" if other else "")]
    for key, label, kind in _LABELS:
        row = f"| {label} | {_fmt(summary.get(key), kind)} |"
        if other:
            row += f" {_fmt(other.get(key), kind)} |"
        lines.append(row)

    if summary.get("sealed"):
        lines += ["", "Förseglad testdel: bara summor sparas och visas (evals/README.md)."]
    if summary.get("generalisation_gap"):
        lines += ["", "Generaliseringsgap (dev − test): " + ", ".join(
            f"{k} {100 * v:+.1f} procentenheter" for k, v in summary["generalisation_gap"].items())]
    return lines


def _decision_section(summary: dict[str, Any]) -> list[str]:
    """How many answers each rule of assistant/decision.py decided, and how many of them were right."""
    decisions = summary.get("decisions") or {}
    if not decisions:
        return []
    lines = ["", "## Beslutsregler", "", "| regel | n | strikt rätt |", "|---|---:|---:|"]
    for rule, d in decisions.items():
        lines.append(f"| {rule} | {d['n']} | {_fmt(d.get('strict'), 'pct')} |")
    return lines


def _categories(summary: dict[str, Any], other: dict[str, Any] | None) -> list[str]:
    """This run's categories, then those only the compared run has."""
    return list(summary["by_category"]) + [c for c in (other or {}).get("by_category", {})
                                           if c not in summary["by_category"]]


def _category_section(summary: dict[str, Any], other: dict[str, Any] | None, cats: list[str]) -> list[str]:
    lines = ["", "## Per kategori", ""]
    head = "| kategori | n | rätt | strikt | retrieval@5 |"
    sep = "|---|---:|---:|---:|---:|"
    if other:
        head += f" n ({_title(other)}) | rätt | strikt |"
        sep += "---:|---:|---:|"
    lines += [head, sep]
    for c in cats:
        row = (f"| {c} | {summary['n_by_category'].get(c, '–')} | {_fmt(summary['by_category'].get(c))} | "
               f"{_fmt((summary.get('by_category_strict') or {}).get(c))} | "
               f"{_fmt((summary.get('retrieval_by_category') or {}).get(c))} |")
        if other:
            row += (f" {other.get('n_by_category', {}).get(c, '–')} | {_fmt(other['by_category'].get(c))} | "
                    f"{_fmt((other.get('by_category_strict') or {}).get(c))} |")
        lines.append(row)
    return lines


def _paraphrase_section(summary: dict[str, Any]) -> list[str]:
    if not summary.get("paraphrase_by_category"):
        return []
    lines = ["", "## Omskrivna dev-frågor", "", "| kategori | rätt original | rätt omskrivna |", "|---|---:|---:|"]
    for c, v in summary["paraphrase_by_category"].items():
        lines.append(f"| {c} | {_fmt(summary['by_category'].get(c))} | {_fmt(v)} |")
    return lines


def _common_questions_section(summary: dict[str, Any], other: dict[str, Any] | None,
                              rows: list[dict[str, Any]], other_rows: list[dict[str, Any]]) -> list[str]:
    """Accuracy on the questions both runs answered, when one of them answered only some."""
    if not (other and other_rows):
        return []
    common = {r["id"] for r in rows} & {r["id"] for r in other_rows}
    if not (common and (len(common) < len(rows) or len(common) < len(other_rows))):
        return []
    ours = [r for r in rows if r["id"] in common]
    theirs = [r for r in other_rows if r["id"] in common]
    a, b = by_category(ours), by_category(theirs)
    sa, sb = metrics.summarise(ours, "-"), metrics.summarise(theirs, "-")
    lines = ["", f"### På de {len(common)} frågor som båda körningarna besvarade", "",
             f"| kategori | n | {_title(summary)} | {_title(other)} |", "|---|---:|---:|---:|"]
    for c in a:
        lines.append(f"| {c} | {sa['n_by_category'][c]} | {_fmt(a.get(c))} | {_fmt(b.get(c))} |")
    lines.append(f"| **alla** | {len(common)} | {_fmt(sa['answer_accuracy'])} | {_fmt(sb['answer_accuracy'])} |")
    return lines


def _strict_problems_section(rows: list[dict[str, Any]]) -> list[str]:
    """Why answers the patterns accept still fail the strict check."""
    problems: dict[str, int] = {}
    for r in rows:
        if r["correct"]:
            for problem in r.get("strict_problems") or []:
                problems[problem] = problems.get(problem, 0) + 1
    if not problems:
        return []
    lines = ["", "## Rätt enligt mönstren men inte koncist", "", "| problem | antal |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(problems.items(), key=lambda kv: -kv[1])]
    return lines


def _failure_sections(rows: list[dict[str, Any]], cats: list[str]) -> list[str]:
    """The causes of the wrong answers per category, then a few examples of each."""
    causes = failure_causes(rows)
    if not causes:
        return []
    lines = ["", "## Varför svaren blev fel", "", "| kategori | orsak | antal |", "|---|---|---:|"]
    for c in cats:
        for cause, n in sorted(causes.get(c, {}).items(), key=lambda kv: -kv[1]):
            lines.append(f"| {c} | {cause} | {n} |")
    lines += ["", "## Exempel på fel svar", ""]
    for c in cats:
        wrong = [r for r in rows if r["category"] == c and not r["correct"]]
        if not wrong:
            continue
        lines.append(f"### {c} ({len(wrong)} fel)")
        lines += [_failure_example(r) for r in wrong[:FAILURE_EXAMPLES]]
        lines.append("")
    return lines


def _failure_example(r: dict[str, Any]) -> str:
    got = r["error"].splitlines()[0] if r.get("error") else ((r.get("answer") or {}).get("answer") or "")
    got = " ".join(got.split())
    return (f"- **{r['id']}** {r['question']}  \n  väntat: {r['expected']}  \n"
            f"  fick: {got[:240]}{'…' if len(got) > 240 else ''}  \n  ({failure_cause(r)}"
            + (f"; saknar `{'`, `'.join(r['missing'])}`" if r.get("missing") and not r["refused"] else "")
            + ")")


def write_chart(path: Path, summary: dict[str, Any], other: dict[str, Any] | None = None) -> Path | None:
    """A bar chart of accuracy per category (grouped with the compared run); matplotlib, else Pillow."""
    cats = list(summary["by_category"])
    series = [(f"{_title(summary)}, n={summary['n']}", [summary["by_category"].get(c) or 0.0 for c in cats])]
    if summary.get("by_category_strict"):
        series.append((f"{_title(summary)} strikt", [summary["by_category_strict"].get(c) or 0.0 for c in cats]))
    if other:
        series.append((f"{_title(other)}, n={other['n']}", [other["by_category"].get(c) or 0.0 for c in cats]))
        if other.get("by_category_strict"):
            series.append((f"{_title(other)} strikt", [other["by_category_strict"].get(c) or 0.0 for c in cats]))
    title = "Andel rätt per kategori (mönster och strikt)"
    try:
        return _matplotlib_chart(path, cats, series, title)
    except ImportError:
        pass
    try:
        return _pillow_chart(path, cats, series, title)
    except ImportError:
        print("Varken matplotlib eller Pillow finns; diagrammet hoppas över.")
        return None


def _matplotlib_chart(path: Path, cats, series, title) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(cats)), 4.5), dpi=100)
    width = 0.8 / len(series)
    for k, (label, values) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(cats))]
        bars = ax.bar(xs, [100 * v for v in values], width, label=label)
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, 100 * v + 1, f"{100 * v:.0f}", ha="center", fontsize=8)
    ax.set_xticks(range(len(cats)))
    ax.set_xticklabels(cats, rotation=20, ha="right")
    ax.set_ylim(0, 110)
    ax.set_ylabel("% rätt")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=min(len(series), 2), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _pillow_chart(path: Path, cats, series, title) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=13)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    title = _ascii(title)  # Pillow's built-in font has no å, ä, ö
    series = [(_ascii(label), values) for label, values in series]
    colours = [(31, 119, 180), (174, 199, 232), (255, 127, 14), (255, 187, 120)]
    w, h = max(640, 110 * len(cats) + 80), 420
    left, right, top, bottom = 50, 20, 40, 90
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    draw.text((left, 10), title, fill="black", font=font)
    plot_h = h - top - bottom
    for pct in range(0, 101, 25):
        y = top + plot_h - pct / 100 * plot_h
        draw.line([(left, y), (w - right, y)], fill=(220, 220, 220))
        draw.text((5, y - 7), f"{pct}%", fill="black", font=font)
    slot = (w - left - right) / len(cats)
    bar_w = slot * 0.8 / len(series)
    for i, cat in enumerate(cats):
        for k, (_, values) in enumerate(series):
            x0 = left + i * slot + slot * 0.1 + k * bar_w
            y0 = top + plot_h - values[i] * plot_h
            draw.rectangle([x0, y0, x0 + bar_w - 2, top + plot_h], fill=colours[k % len(colours)])
            draw.text((x0 + 2, y0 - 15), f"{100 * values[i]:.0f}", fill="black", font=font)
        draw.text((left + i * slot + 4, top + plot_h + 6), cat, fill="black", font=font)
    for k, (label, _) in enumerate(series):
        y = h - 45 + 18 * k
        draw.rectangle([left, y, left + 12, y + 12], fill=colours[k % len(colours)])
        draw.text((left + 18, y - 1), label, fill="black", font=font)
    img.save(path)
    return path
