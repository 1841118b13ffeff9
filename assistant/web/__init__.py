"""The web app: a Swedish chat over the governance documents, built with Gradio.

    from assistant.offline import enforce_offline
    enforce_offline()  # before gradio is imported: it reads GRADIO_ANALYTICS_ENABLED at import time
    from assistant.web.app import build_app, launch_options
    demo = build_app(lambda mode=None: Assistant.load(settings), settings)
    demo.queue(default_concurrency_limit=4).launch(**launch_options(settings))

- `app`: the layout, its handlers and the launch options;
- `loader`: the assistant, loaded lazily, warmed up, and whether it is ready (/readyz);
- `filters`: the document and year filters;
- `render`: an answer as HTML and a conversation as Markdown, the page's CSS and script;
- `sources`: the source viewer (a corpus document's cited lines in context), refusing anything else;
- `middleware`: /healthz and /readyz, no remote files, the page's language, the login check;
- `retention`: the exports and the daily purge of expired feedback and exports.

Importing this package (or any module here but `app`) has no side effects: the entry points
(app.py) call `enforce_offline()` themselves before `app` imports gradio.
"""
