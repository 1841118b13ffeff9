"""How fast the installed llama-cpp-python build reads and writes here: `python -m evals.llm_speed`.

Loads the local GGUF in this process with the app's thread settings (llm_threads to write,
llm_batch_threads to read the prompt), reads a prompt of about 450 tokens and writes up to 128
tokens, `--runs` times, and prints llama.cpp's own counters as JSON: tokens/s read (prompt) and
written (generation), and the load average before. The model server runs the same library and
settings, so these are its speeds too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from assistant.offline import enforce_offline


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args(argv)

    import llama_cpp

    from assistant.llm import ensure_local_gguf
    from assistant.settings import Settings

    settings = Settings.load()
    load_before = os.getloadavg()
    t = time.perf_counter()
    model = llama_cpp.Llama(model_path=str(ensure_local_gguf(settings)), n_ctx=settings.llm_context_tokens,
                            n_threads=settings.llm_threads, n_threads_batch=settings.llm_batch_threads, verbose=False)
    load_s = time.perf_counter() - t
    evidence = "\n".join(f"[{n}] Målvärdet för indikator {n} är {n + 3},{n} procent år 20{20 + n} enligt "
                         f"hållbarhetsprogrammet, som regionfullmäktige fastställde." for n in range(1, 9))
    read, written = [], []
    for run in range(args.runs):
        question = "Fråga: Beskriv alla målvärden utförligt.\nSvar:"
        messages = [{"role": "system", "content": f"Körning {run}. Svara kort på svenska med utdragets nummer."},
                    {"role": "user", "content": f"Utdrag:\n{evidence}\n{question}"}]
        model.reset()  # read the whole prompt every run, no cached prefix
        llama_cpp.llama_perf_context_reset(model._ctx.ctx)
        model.create_chat_completion(messages=messages, max_tokens=args.max_tokens, temperature=0.0)
        perf = llama_cpp.llama_perf_context(model._ctx.ctx)
        read.append({"tokens": perf.n_p_eval, "s": perf.t_p_eval_ms / 1000})
        written.append({"tokens": perf.n_eval, "s": perf.t_eval_ms / 1000})

    def rate(items):
        rates = [i["tokens"] / i["s"] for i in items if i["s"] > 0]
        return {"median_tokens_per_s": round(statistics.median(rates), 1), "runs": [round(r, 1) for r in rates],
                "tokens": [i["tokens"] for i in items]}

    print(json.dumps({"llama_cpp_python": llama_cpp.__version__,
                      "system_info": llama_cpp.llama_print_system_info().decode(),
                      "threads_write": settings.llm_threads, "threads_read": settings.llm_batch_threads,
                      "cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in load_before],
                      "model_load_s": round(load_s, 2), "read": rate(read), "written": rate(written)},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
