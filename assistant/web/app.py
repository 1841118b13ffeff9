"""The Gradio app: the layout, the handlers behind it and the launch options.

    demo = build_app(lambda mode=None: Assistant.load(settings), settings)
    demo.queue(default_concurrency_limit=4).launch(**launch_options(settings))

Imports gradio, so the entry point calls `assistant.offline.enforce_offline()` first (app.py does).
The assistant is made by a factory so that the app starts without an index and says which command
builds it (web/loader.py). Everything a conversation owns (its turns, its answers, its feedback)
lives in per-session `gr.State`, never in module globals, so many people can chat at once. The API
endpoint `/ask` takes a question and the earlier turns as JSON and returns the same JSON as
`python -m assistant ask --json`; `/ask_v2` does the same with typed values, `/source` shows a source.
"""

from __future__ import annotations

import html
import json
import logging
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import gradio as gr
from starlette.middleware import Middleware

from .. import prompts
from ..api import AnswerModel, Turn, TurnsError, parse_turns
from ..chat import AssistantUnavailable
from ..question import clean_question, input_problem
from ..feedback import FeedbackStore
from ..settings import Settings
from .filters import document_choices, filter_documents, year_choices
from .loader import AssistantLoader
from .middleware import NoRemoteFiles, ServiceRoutes, login_check
from .render import (CSS, PAGE_JS, SOURCE_PANEL_EMPTY, answer_html, banner_html, documents_html, message_html,
                     pending_html, source_panel_html)
from .retention import DELETE_CACHE, export_folder, start_retention, write_export
from .sources import SourceRefused, source_lines

log = logging.getLogger(__name__)

SOURCE_PANEL_CONTEXT = 6  # lines shown before and after the cited ones


# --- the app ------------------------------------------------------------------------------------

def build_app(assistant_factory: Callable[..., Any], settings: Settings) -> gr.Blocks:
    """The Gradio app. `assistant_factory()` returns an Assistant or raises AssistantUnavailable;
    if it accepts `mode=`, it is called with mode="extractive" when the configured LLM cannot load."""
    loader = AssistantLoader(assistant_factory, settings)
    feedback = FeedbackStore(settings.feedback_path)
    purge_report = start_retention(settings)
    chat = ChatHandlers(loader, settings, feedback, export_folder(settings))
    api = ApiHandlers(loader, settings)
    loader.try_get()
    docs = loader.documents()
    with gr.Blocks(title=prompts.TITLE, analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        ui = _layout(loader, docs)
        _connect(ui, chat, demo)
        gr.api(api.ask, api_name="ask")
        gr.api(api.ask_v2, api_name="ask_v2")
        gr.api(api.source, api_name="source")
    demo.purge_report = purge_report
    demo.kb_loader = loader  # for /readyz (ServiceRoutes)
    return demo


def launch_options(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Arguments for `demo.launch()`: local only, no share link, no analytics, login when users are set."""
    options = dict(
        server_name=settings.host,
        server_port=settings.port,
        auth=login_check(settings.users) if settings.users else None,
        auth_message=prompts.LOGIN_MESSAGE,
        share=False,
        inbrowser=False,
        show_error=False,
        footer_links=["api"],
        run_history=False,
        enable_monitoring=False,
        pwa=False,
        mcp_server=False,
        ssr_mode=False,
        theme=gr.themes.Default(),
        css=CSS,
        js=PAGE_JS,
        app_kwargs={"middleware": [Middleware(ServiceRoutes), Middleware(NoRemoteFiles)]},
    )
    options.update(overrides)
    return options


# --- the layout -----------------------------------------------------------------------------------

def _layout(loader: AssistantLoader, docs: dict) -> SimpleNamespace:
    """The page: a header, the banner, and the tabs (the chat, the documents, about); returns the components."""
    ui = SimpleNamespace()
    gr.Markdown(prompts.HEADER, elem_id="kb-header")
    ui.banner = gr.HTML(banner_html(loader), elem_id="kb-banner")
    ui.display, ui.history, ui.turns = gr.State([]), gr.State([]), gr.State([])
    ui.rated, ui.conversation = gr.State({}), gr.State("")
    with gr.Tabs():
        with gr.Tab("Fråga", id="chat", elem_id="kb-tab-chat"):
            with gr.Row():
                with gr.Column(scale=4):
                    _chat_column(ui)
                with gr.Column(scale=1, min_width=260):
                    _side_panel(ui, docs)
        with gr.Tab("Dokument", id="documents", elem_id="kb-tab-documents"):
            gr.Markdown("## Vad assistenten känner till")
            ui.docs_page = gr.HTML(documents_html(docs, loader.error), elem_id="kb-documents")
        with gr.Tab("Om assistenten", id="about", elem_id="kb-tab-about"):
            gr.Markdown(prompts.ABOUT)
    return ui


def _chat_column(ui: SimpleNamespace) -> None:
    ui.chatbot = gr.Chatbot(
        label="Samtal", elem_id="kb-chat", height=580, buttons=["copy"],
        feedback_options=("Like", "Dislike"), latex_delimiters=[],
        placeholder="**Ställ en fråga** om budgetar, program, strategin eller delårsrapporten "
                    "– eller välj en exempelfråga nedan.")
    with gr.Row():
        ui.question = gr.Textbox(label="Din fråga", elem_id="kb-question", scale=5, lines=1,
                                 max_lines=6, autofocus=True,
                                 placeholder="Till exempel: Vad är målvärdet för sjukfrånvaro 2028?")
        ui.send = gr.Button("Skicka", variant="primary", scale=1, elem_id="kb-send")
    ui.status = gr.Markdown("", elem_id="kb-status")
    ui.source_panel = gr.HTML(SOURCE_PANEL_EMPTY, elem_id="kb-source-panel")
    ui.source_request = gr.Textbox("", elem_id="kb-source-request", elem_classes=["kb-hidden"],
                                   show_label=False, container=False, lines=1, max_lines=1)
    gr.Markdown("**Exempelfrågor** – klicka för att fråga:")
    with gr.Row(elem_id="kb-examples"):
        ui.examples = [gr.Button(text, size="sm", variant="secondary") for text in prompts.EXAMPLES]


def _side_panel(ui: SimpleNamespace, docs: dict) -> None:
    gr.Markdown("### Avgränsa")
    ui.doc_filter = gr.Dropdown(choices=document_choices(docs), value=[], multiselect=True,
                                label="Dokument", info="Tomt: alla dokument.", elem_id="kb-doc-filter")
    ui.year_filter = gr.Dropdown(choices=year_choices(docs), value=prompts.ALL_YEARS, label="År",
                                 info="Bara dokument som gäller året.", elem_id="kb-year-filter")
    ui.new_chat = gr.Button("Ny konversation", size="md", elem_id="kb-new")
    ui.export = gr.DownloadButton("Exportera samtalet (.md)", value=None, interactive=False,
                                  size="md", elem_id="kb-export")
    gr.Markdown("### Återkoppling\nTumme upp eller ned finns under varje svar.")
    ui.comment = gr.Textbox(label="Kommentar (valfri)", lines=2, elem_id="kb-comment",
                            placeholder="Vad var bra eller fel i svaret?")
    ui.send_comment = gr.Button("Skicka kommentar", size="sm", elem_id="kb-send-comment")
    ui.feedback_status = gr.Markdown("", elem_id="kb-feedback-status")


def _connect(ui: SimpleNamespace, chat: "ChatHandlers", demo: gr.Blocks) -> None:
    """The events: each component's handler, none of them an API endpoint."""
    private = {"api_visibility": "private"}
    inputs = [ui.question, ui.display, ui.history, ui.turns, ui.doc_filter, ui.year_filter, ui.conversation]
    outputs = [ui.chatbot, ui.display, ui.history, ui.turns, ui.question, ui.status, ui.export, ui.conversation]
    ui.send.click(chat.respond_and_show, inputs, outputs, show_progress="hidden", **private)
    ui.question.submit(chat.respond_and_show, inputs, outputs, show_progress="hidden", **private)
    for button, text in zip(ui.examples, prompts.EXAMPLES):
        button.click(lambda t=text: t, None, ui.question, queue=False, **private).then(
            chat.respond_and_show, inputs, outputs, show_progress="hidden", **private)
    reset = [ui.chatbot, ui.display, ui.history, ui.turns, ui.question, ui.status, ui.export,
             ui.conversation, ui.rated, ui.feedback_status, ui.source_panel]
    ui.new_chat.click(chat.new_conversation, None, reset, queue=False, **private)
    ui.chatbot.clear(chat.new_conversation, None, reset, queue=False, **private)
    ui.chatbot.like(chat.on_like, [ui.turns, ui.rated, ui.conversation], [ui.rated, ui.feedback_status], **private)
    ui.send_comment.click(chat.on_comment, [ui.comment, ui.rated], [ui.comment, ui.feedback_status], **private)
    ui.comment.submit(chat.on_comment, [ui.comment, ui.rated], [ui.comment, ui.feedback_status], **private)
    demo.load(chat.on_load, None, [ui.banner, ui.doc_filter, ui.year_filter, ui.docs_page], **private)
    ui.source_request.change(chat.show_source, ui.source_request, ui.source_panel, show_progress="hidden",
                             **private).then(
        None, None, None, js="() => document.querySelector('#kb-source-panel')"
                             ".scrollIntoView({behavior: 'smooth', block: 'nearest'})")


# --- the chat's handlers --------------------------------------------------------------------------

class _Reply:
    """The outputs of one question while it is answered: the chat as shown, the history the assistant
    reads, the turns (each answer, for feedback and the export) and the conversation's id."""

    def __init__(self, display, history, turns, conversation) -> None:
        self.display, self.history, self.turns = list(display or []), list(history or []), list(turns or [])
        self.conversation = conversation or uuid.uuid4().hex

    def outputs(self, question=None, status=None, export=None) -> tuple:
        """display, history, turns, question, status, export, conversation; None leaves a component as it is."""
        def keep(value):
            return gr.update() if value is None else value
        return (self.display, self.history, self.turns, keep(question), keep(status), keep(export),
                self.conversation)

    def say(self, role: str, content: str) -> None:
        self.display.append({"role": role, "content": content})

    def show(self, content: str) -> None:
        """Replace the assistant's message being written."""
        self.display[-1] = {"role": "assistant", "content": content}

    def unanswered(self, question: str, message: str, css_class: str) -> tuple:
        """A question that is not put to the assistant: the message in the chat and in the status line."""
        self.say("assistant", message_html(message, css_class))
        self.turns.append({"question": question, "index": len(self.display) - 1, "answer": None, "text": message})
        return self.outputs(question="", status=f"⚠️ {message}")

    def failed(self, message: str) -> tuple:
        self.show(message_html(message, "kb-answer kb-error"))
        return self.outputs(status=f"⚠️ {message}")


class ChatHandlers:
    """What the page's events do: answer, start over, take feedback, load the page, show a source."""

    def __init__(self, loader: AssistantLoader, settings: Settings, feedback: FeedbackStore,
                 export_dir: Path) -> None:
        self.loader, self.settings, self.feedback, self.export_dir = loader, settings, feedback, export_dir

    def respond_and_show(self, question, display, history, turns, doc_filter, year, conversation):
        """`respond`, with the chat shown both in the chatbot and in the state the next question reads."""
        for display, *rest in self.respond(question, display, history, turns, doc_filter, year, conversation):
            yield (display, display, *rest)

    def respond(self, question, display, history, turns, doc_filter, year, conversation):
        """Answer a question, showing the answer while it is written: yields the outputs of `_Reply`."""
        reply = _Reply(display, history, turns, conversation)
        q = clean_question(question or "")
        problem = input_problem(q, self.settings.max_question_chars)
        if problem:  # keep the text so it can be corrected
            yield reply.outputs(status=f"⚠️ {problem}")
            return
        reply.say("user", html.escape(q))
        try:
            assistant = self.loader.get()
        except AssistantUnavailable as exc:
            yield reply.unanswered(q, str(exc), "kb-answer kb-error")
            return
        docs = dict(assistant.documents)
        files, filter_label = filter_documents(docs, doc_filter, year)
        if files == []:
            yield reply.unanswered(q, prompts.FILTER_MATCHES_NOTHING.format(filter=filter_label), "kb-answer")
            return
        reply.say("assistant", f'<span class="kb-pending">{prompts.SEARCHING}</span>')
        yield reply.outputs(question="", status="")
        try:
            answer, streamed = yield from self._stream(assistant, q, files, reply)
        except Exception as exc:  # a clear message in the chat, the traceback in the server log
            # The traceback, not the question: the server log must not become a record of conversations.
            log.exception("a question (%d characters) could not be answered", len(q))
            yield reply.failed(prompts.ANSWER_FAILED.format(error=type(exc).__name__))
            return
        if answer is None:
            yield reply.failed(prompts.NO_ANSWER)
            return
        if not streamed and not answer.refused and answer.mode != "input":
            yield from self._reveal(answer.text, reply)
        yield self._finish(q, answer, docs, filter_label, reply)

    def _stream(self, assistant, q: str, files: list[str] | None, reply: _Reply):
        """Show the draft and the streamed text as they arrive; returns (the final answer or None, the streamed text)."""
        answer, streamed = None, ""
        for event in assistant.ask_stream(q, reply.history, documents=files):
            if event.kind == "draft":
                reply.show(pending_html(event.text, prompts.WRITING))
                yield reply.outputs()
            elif event.kind == "delta":
                streamed += event.text
                reply.show(pending_html(streamed))
                yield reply.outputs()
            elif event.kind == "final":
                answer = event.answer
        return answer, streamed

    @staticmethod
    def _reveal(text: str, reply: _Reply):
        """Extractive answers arrive whole; reveal them in a few steps like streamed ones."""
        words = text.split(" ")
        step = max(4, len(words) // 6)
        for end in range(step, len(words), step):
            reply.show(pending_html(" ".join(words[:end])))
            yield reply.outputs()
            time.sleep(0.03)

    def _finish(self, q: str, answer, docs: dict, filter_label: str, reply: _Reply) -> tuple:
        """The answer in full, remembered in the history and the turns, and the conversation exported."""
        data = answer.to_json()
        extra = self.loader.notice if answer.mode == "extractive" and not answer.notice else ""
        reply.show(answer_html(data, docs, filter_label, extra))
        reply.history += [{"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]
        reply.turns.append({"question": q, "index": len(reply.display) - 1, "answer": data, "filter": filter_label,
                            "text": answer.text})
        path = write_export(self.export_dir, reply.conversation, reply.turns)
        return reply.outputs(status="", export=gr.update(value=str(path), interactive=True))

    def new_conversation(self):
        # chatbot, display, history, turns, question, status, export, conversation, rated, feedback status,
        # source panel
        return ([], [], [], [], "", "", gr.update(value=None, interactive=False), uuid.uuid4().hex, {}, "",
                SOURCE_PANEL_EMPTY)

    def on_like(self, turns, rated, conversation, data: gr.LikeData):
        rated = dict(rated or {})
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = next((t for t in (turns or []) if t.get("index") == index and t.get("answer")), None)
        if turn is None:
            return rated, prompts.FEEDBACK_ONLY_ANSWERS
        key = str(index)
        if data.liked is True or data.liked is False:
            rating = 1 if data.liked else -1
            if key in rated:
                self.feedback.update(rated[key], rating=rating)
            else:
                rated[key] = self.feedback.add(rating, turn["question"], json.dumps(turn["answer"], ensure_ascii=False),
                                               "", conversation or "")
            rated["last"] = rated[key]
            return rated, prompts.FEEDBACK_THANKS
        if key in rated:  # the thumb was clicked again: the judgement is withdrawn
            removed = rated.pop(key)
            self.feedback.delete(removed)
            if rated.get("last") == removed:
                rated.pop("last")
        return rated, prompts.FEEDBACK_REMOVED

    def on_comment(self, comment, rated):
        comment = (comment or "").strip()
        rated = dict(rated or {})
        if not comment:
            return gr.update(), prompts.FEEDBACK_COMMENT_EMPTY
        if "last" not in rated:
            return gr.update(), prompts.FEEDBACK_FIRST
        self.feedback.update(rated["last"], comment=comment)
        return "", prompts.FEEDBACK_COMMENT_SAVED

    def on_load(self):
        docs = self.loader.documents()
        return (banner_html(self.loader), gr.update(choices=document_choices(docs)),
                gr.update(choices=year_choices(docs)), documents_html(docs, self.loader.error))

    def show_source(self, request: str):
        """The source panel for a click on a citation: {"file", "start", "end", "n"} from the page's script."""
        try:
            data = json.loads(request or "")
            file, start, end = data["file"], int(data["start"]), int(data.get("end") or data["start"])
            n = int(data["n"]) if data.get("n") else None
        except (ValueError, TypeError, KeyError):
            return message_html(prompts.SOURCE_BAD_REQUEST, "kb-banner kb-error")
        try:
            source = source_lines(self.settings.corpus_dir, file, start, end, SOURCE_PANEL_CONTEXT)
        except SourceRefused as exc:
            return message_html(str(exc), "kb-banner kb-error")
        return source_panel_html(source, self.loader.documents().get(file), n)


# --- the API endpoints ----------------------------------------------------------------------------

def client_error(message: str) -> gr.Error:
    """An error for an API client: the message in Swedish, and no traceback in the server log (bad input is
    not a fault of the server; an unexpected failure is logged with its traceback where it is caught)."""
    return gr.Error(message, print_exception=False)


class ApiHandlers:
    """The endpoints /ask, /ask_v2 and /source. Their docstrings are what /gradio_api/info shows clients."""

    def __init__(self, loader: AssistantLoader, settings: Settings) -> None:
        self.loader, self.settings = loader, settings

    def ask(self, question: str, history: str = "[]") -> str:
        """Svara på en fråga. `history` är tidigare turer som JSON ([] för inga); svaret är samma JSON som
        `python -m assistant ask --json`."""
        try:
            turns = json.loads(history or "[]")
        except ValueError as exc:
            raise client_error(f"{prompts.HISTORY_NOT_JSON.format(error=exc)} {prompts.HISTORY_FORMAT}") from exc
        if not isinstance(turns, list) or not all(isinstance(t, dict) and "role" in t and "content" in t
                                                  for t in turns):
            raise client_error(prompts.HISTORY_FORMAT)
        answer = self._answer(question or "", turns)
        return json.dumps(answer.to_json(), ensure_ascii=False)

    def ask_v2(self, question: str, history: list[Turn] | None = None,
               documents: list[str] | None = None) -> AnswerModel:
        """Svara på en fråga. `history` är tidigare turer, en lista av {"role": "user"|"assistant", "content": "…"}
        ([] för inga); `documents` begränsar till några dokument (filnamn, som i svarets källor; tomt: alla).
        Svaret är ett objekt med samma fält som `python -m assistant ask --json`."""
        if not isinstance(question, str):
            raise client_error(prompts.API_QUESTION_TYPE)
        try:
            turns = parse_turns(history)
        except TurnsError as exc:
            raise client_error(f"{prompts.HISTORY_LIST_FORMAT} ({exc})") from None
        if documents is not None and (not isinstance(documents, list)
                                      or not all(isinstance(d, str) for d in documents)):
            raise client_error(prompts.API_DOCUMENTS_TYPE)
        answer = self._answer(question, turns, documents=documents or None)
        return AnswerModel.from_answer(answer).model_dump(mode="json")

    def _answer(self, question: str, turns: list, **options):
        """The assistant's answer, or a client error: no index, documents it does not have, or a failure."""
        try:
            assistant = self.loader.get()
        except AssistantUnavailable as exc:
            raise client_error(str(exc)) from exc
        unknown = [d for d in options.get("documents") or [] if d not in assistant.documents]
        if unknown:
            raise client_error(prompts.API_UNKNOWN_DOCUMENTS.format(names=", ".join(unknown[:5])))
        try:
            return assistant.ask(question, turns, **options)
        except Exception as exc:  # the client gets a message, the server log the traceback
            log.exception("an API question (%d characters) could not be answered", len(question))
            raise client_error(prompts.API_FAILED.format(error=type(exc).__name__)) from exc

    # Gradio reads the return type from the signature, where `from __future__ import annotations` left a
    # string; the class itself gives clients the answer's schema in /gradio_api/info.
    ask_v2.__annotations__["return"] = AnswerModel

    def source(self, file: str, line_start: int, line_end: int = 0, context: int = 3) -> str:
        """Visa en källa i sitt sammanhang: raderna line_start–line_end (0: bara line_start) i dokumentet `file`
        (filnamnet ur svarets källa) och `context` rader runt dem, som JSON. Bara dokument i underlaget visas."""
        try:
            return json.dumps(source_lines(self.settings.corpus_dir, file, line_start, line_end or None, context),
                              ensure_ascii=False)
        except SourceRefused as exc:
            raise client_error(str(exc)) from exc
