"""A page of headings, paragraphs and tables, written as Markdown (to read in results/) and as a self-contained HTML
page (what the Snakemake report shows inline: its tables render as tables, where a CSV would be a download link)."""

from __future__ import annotations

import html
import re

import pandas as pd

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 14px; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
p { max-width: 75em; line-height: 1.45; }
.banner { background: #fff4d6; border: 1px solid #e0b84c; padding: 0.6em 0.9em; max-width: 75em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.55em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tr:nth-child(even) td { background: #fafafa; }
td.PASS { color: #126b12; font-weight: 600; } td.FAIL { color: #a61b1b; font-weight: 600; }
"""
_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<i>\1</i>"),
    (re.compile(r"`(.+?)`"), r"<code>\1</code>"),
]


def _inline_html(text: str) -> str:
    text = html.escape(text, quote=False)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


class Page:
    def __init__(self, title: str):
        self.title = title
        self.blocks: list[tuple[str, object]] = []

    def heading(self, text: str) -> Page:
        self.blocks.append(("h2", text))
        return self

    def paragraph(self, text: str) -> Page:
        if text:
            self.blocks.append(("p", text))
        return self

    def banner(self, text: str) -> Page:
        """A line the reader must see first (a smoke run's warning)."""
        if text:
            self.blocks.append(("banner", text))
        return self

    def table(self, frame: pd.DataFrame, index: bool = False) -> Page:
        self.blocks.append(("table", frame.reset_index() if index else frame))
        return self

    def markdown(self) -> str:
        return "\n\n".join([f"# {self.title}", *(MARKDOWN[kind](content) for kind, content in self.blocks)]) + "\n"

    def html(self) -> str:
        body = [f"<h1>{_inline_html(self.title)}</h1>", *(HTML[kind](content) for kind, content in self.blocks)]
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )


def _table_html(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for value in values:
            text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
            css = f' class="{text}"' if text in ("PASS", "FAIL") else ""
            cells.append(f"<td{css}>{_inline_html(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>"


# How each kind of block is written in each format.
MARKDOWN = {
    "h2": lambda text: f"## {text}",
    "banner": lambda text: f"> **{text}**",
    "p": lambda text: text,
    "table": lambda frame: frame.to_markdown(index=False, disable_numparse=True),
}
HTML = {
    "h2": lambda text: f"<h2>{_inline_html(text)}</h2>",
    "banner": lambda text: f'<p class="banner"><b>{_inline_html(text)}</b></p>',
    "p": lambda text: f"<p>{_inline_html(text)}</p>",
    "table": _table_html,
}
