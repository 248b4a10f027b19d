"""Email templates: templates/mail/NAME(.LANG).md.j2 found, split into front matter, text and
HTML bodies, and checked (`crmkit check`).

A template::

    ---
    subject: "Nyhet för {{ contact.name }}"
    kind: marketing            # marketing mail needs consent and an unsubscribe line
    ---
    Hej {{ contact.name }}, ...      (the text body)
    {{ unsubscribe }}
    === html ===
    <p>Hej {{ contact.name }}</p>    (an optional HTML body)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import TemplateError
from crmkit.render.templating import find_template
from crmkit.store import yamlio

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


HTML_SEPARATOR = re.compile(r"^=== html ===\s*$", re.MULTILINE)
UNSUBSCRIBE = re.compile(r"\{\{-?\s*unsubscribe\b")


@dataclass
class MailTemplate:
    name: str
    path: Path
    subject: str
    kind: str
    text: str
    html: str | None
    front_line: int  # line where the body starts, for messages
    declared: bool = True  # the front matter says its kind (else: transactional by default)

    def for_segment(self, segment: str, rel: str) -> None:
        """Mail to a whole segment is a mail merge: the template must say whether it is
        marketing (consent and opt-out respected) or transactional. Left to the default, a
        greeting to a segment would reach people who opted out."""
        if not self.declared:
            raise TemplateError(f"mail to segment {segment!r}: say what this mail is in the front matter, "
                                "`kind: marketing` (only to those who consented and did not opt out) or "
                                "`kind: transactional`", path=rel, line=1)


def load_template(ws: Workspace, name: str, lang: str | None = None) -> MailTemplate:
    """Find templates/mail/NAME(.LANG).md.j2 in the workspace or the defaults and split it.

    With `lang` (a recipient's `language`), NAME.LANG.md.j2 is preferred when it exists.
    """
    from crmkit.render.templating import check_name

    check_name(name)
    if name.endswith(".j2"):
        candidates = [name]
    else:
        base = [f"{name}.md.j2", f"{name}.txt.j2"]
        candidates = ([f"{name}.{lang}.md.j2", f"{name}.{lang}.txt.j2"] if lang else []) + base
    try:
        path = find_template(ws, *[f"mail/{c}" for c in candidates])
    except TemplateError:
        raise TemplateError(f"no email template {name!r} in templates/mail/ (workspace or crmkit's defaults)") from None
    from crmkit.store import paths

    source = paths.read_text(path)  # never through a link (store/paths.py)
    rel = ws.rel(path)
    if not source.startswith("---"):
        raise TemplateError("an email template starts with front matter (---, subject: ..., ---)", path=rel, line=1)
    parts = source.split("\n---", 1)
    if len(parts) != 2:
        raise TemplateError("the front matter is not closed with ---", path=rel, line=1)
    front = yamlio.loads_fast(parts[0][3:], rel) or {}
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    if not isinstance(front, dict) or not front.get("subject"):
        raise TemplateError("the front matter needs a subject", path=rel, line=1)
    kind = str(front.get("kind", "transactional"))
    if kind not in ("marketing", "transactional"):
        raise TemplateError(f"kind is marketing or transactional, not {kind!r}", path=rel, line=2)
    text, html = body, None
    m = HTML_SEPARATOR.search(body)
    if m:
        text, html = body[: m.start()], body[m.end():].lstrip("\n")
    body_line = source[: len(parts[0]) + 4].count("\n") + 2
    if kind == "marketing":
        for part, label in ((text, "text"), (html, "HTML")):
            if part is not None and not UNSUBSCRIBE.search(part):
                line = body_line if label == "text" else body_line + text.count("\n") + 1
                raise TemplateError(f"a marketing template needs the unsubscribe line {{{{ unsubscribe }}}} "
                                    f"in its {label} body", path=rel, line=line)
    return MailTemplate(name, path, str(front["subject"]), kind, text, html, body_line, "kind" in front)


def check_templates(ws: Workspace) -> list[Any]:
    """`crmkit check`: the workspace's own templates parse; email templates have front matter,
    a known kind, and (marketing) the unsubscribe line. Reported with file and line."""
    import jinja2

    from crmkit.errors import Problem
    from crmkit.render.templating import environment
    from crmkit.store import paths

    problems: list[Any] = []
    folder = ws.root / "templates"
    if not folder.is_dir():
        return problems
    env = environment(ws, html=False, locale=str(ws.config.get("locale", "sv_SE")))
    for path in sorted(folder.rglob("*.j2")):
        rel = ws.rel(path)
        name = path.relative_to(folder).as_posix()
        parts: list[tuple[str, int]] = []
        try:
            if name.startswith("mail/"):
                tpl = load_template(ws, name[len("mail/"):])
                source = paths.read_text(path)
                parts = [(tpl.subject, 2), (tpl.text, tpl.front_line)]
                if tpl.html is not None:
                    parts.append((tpl.html, source[: source.find(tpl.html)].count("\n") + 1))
            else:
                parts = [(paths.read_text(path), 1)]
            for source, first in parts:
                try:
                    env.parse(source)
                except jinja2.TemplateSyntaxError as exc:
                    problems.append(Problem(rel, first + (exc.lineno or 1) - 1, "template", exc.message or "syntax error"))
        except paths.UnsafePath:
            continue  # a link: reported once by the paths check
        except TemplateError as exc:
            problems.append(Problem(rel, exc.line, "template", exc.message))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, None, "template", f"cannot read: {exc}"))
    return problems
