"""Templates: the sandbox, strict variables named by path, escaping, lookup and the shipped defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit.errors import TemplateError
from crmkit.render.templating import (
    MissingVariable,
    check_name,
    find_template,
    pick_template,
    render_file,
    render_string,
)
from crmkit.resources import default_templates_dir
from crmkit.store.workspace import Workspace


@pytest.fixture
def ws(make_ws) -> Workspace:
    root = make_ws({"templates/offer.md.j2": "workspace offer {{ x }}\n",
                    "templates/mail/own.md.j2": "---\nsubject: s\n---\nbody\n"}, git=False)
    return Workspace.find(str(root))


def render(ws: Workspace, source: str, html: bool = False, **ctx: object) -> str:
    return render_string(ws, source, ctx, html=html, locale="sv_SE", name="t")


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__['__builtins__'] }}",
    "{{ x.__class__.__base__ }}",
    "{{ (x|attr('__class__')) }}",
    "{{ '{0.__class__}'.format(x) }}",
    "{% for s in ().__class__.__base__.__subclasses__() %}{{ s }}{% endfor %}",
    "{{ x.__dict__ }}",
    "{{ x.items.__self__ }}",
    "{{ lipsum.__globals__ }}",
])
def test_sandbox_escapes_fail_with_a_clear_error(ws, attack) -> None:
    with pytest.raises(TemplateError) as info:
        render(ws, attack, x={"a": 1})
    message = info.value.message
    assert message.startswith("template t")
    assert "unsafe" in message or "missing variable" in message


def test_the_sandbox_refuses_huge_ranges(ws) -> None:
    with pytest.raises(TemplateError, match="unsafe|range"):
        render(ws, "{{ range(10**9) | list | length }}")


def test_record_text_is_data_never_a_template(ws) -> None:
    assert render(ws, "Hej {{ contact.name }}!", contact={"name": "{{ 7*7 }}"}) == "Hej {{ 7*7 }}!"
    assert render(ws, "{{ contact.name }}", contact={"name": "{% raw %}x"}) == "{% raw %}x"


def test_html_is_escaped_and_text_is_not(ws) -> None:
    ctx = {"company": {"name": "<b>Åkerberg & Söner</b>"}}
    assert render(ws, "{{ company.name }}", html=True, **ctx) == "&lt;b&gt;Åkerberg &amp; Söner&lt;/b&gt;"
    assert render(ws, "{{ company.name }}", html=False, **ctx) == "<b>Åkerberg & Söner</b>"


def test_a_missing_variable_is_named_by_its_path(ws) -> None:
    with pytest.raises(MissingVariable) as info:
        render(ws, "{{ contact.title }}", contact={"name": "Åsa"})
    assert info.value.message == "template t: missing variable: contact.title"
    with pytest.raises(MissingVariable, match=r"missing variable: contact\.address\.city$"):
        render(ws, "{{ contact.address.city }}", contact={"address": {"street": "Storgatan 1"}})
    with pytest.raises(MissingVariable, match=r"missing variable: deal$"):
        render(ws, "{{ deal }}")
    with pytest.raises(MissingVariable, match=r"contact\.tags\[0\]\.x"):
        render(ws, "{{ contact.tags[0].x }}", contact={"tags": [{"y": 1}]})


def test_every_missing_variable_is_listed_not_only_the_first(ws) -> None:
    source = "{{ contact.title }} {{ contact.name }} {{ company.name }} {% if contact.phone %}{% endif %}"
    with pytest.raises(MissingVariable) as info:
        render(ws, source, contact={"name": "Åsa"}, company={})
    assert info.value.names == ["contact.title", "company.name", "contact.phone"]
    assert info.value.message == "template t: missing variables: contact.title, company.name, contact.phone"


def test_optional_fields_use_default_or_is_defined(ws) -> None:
    source = "{{ contact.title | default('-') }}{% if contact.phone is defined %}{{ contact.phone }}{% endif %}"
    assert render(ws, source, contact={"name": "Åsa"}) == "-"


def test_filters_format_for_the_locale(ws) -> None:
    import datetime as dt

    assert render(ws, "{{ x | money('SEK') }}", x="12345.5") == "12\u00a0345,50\u00a0kr"
    assert render(ws, "{{ d | date }}", d=dt.date(2026, 12, 31)) == "31 december 2026"
    assert render(ws, "{{ d | date('short') }}", d="2026-12-31") == "2026-12-31"
    assert render(ws, "{{ r | percent }}", r=25) == "25\u00a0%"


def test_syntax_errors_name_the_file_and_line(ws) -> None:
    (ws.root / "templates/broken.md.j2").write_text("ok\n{% for x in %}\n")
    with pytest.raises(TemplateError) as info:
        render_file(ws, "broken.md.j2", {}, html=False, locale="sv_SE")
    assert info.value.line == 2 and "broken.md.j2" in str(info.value.path)


def test_workspace_templates_override_the_defaults(ws) -> None:
    assert render_file(ws, "offer.md.j2", {"x": 1}, html=False, locale="sv_SE") == "workspace offer 1\n"
    assert find_template(ws, "offer.html.j2") == default_templates_dir() / "offer.html.j2"
    assert find_template(ws, "mail/own.md.j2") == ws.root / "templates/mail/own.md.j2"
    # a language of its own wins over the generic template, the workspace over the defaults
    assert pick_template(ws, "offer.sv.md.j2", "offer.md.j2") == "offer.md.j2"
    (ws.root / "templates/offer.sv.md.j2").write_text("svensk\n")
    assert pick_template(ws, "offer.sv.md.j2", "offer.md.j2") == "offer.sv.md.j2"


@pytest.mark.parametrize("name", ["../crmkit.yaml", "/etc/passwd", "mail/../../x", "a//b"])
def test_template_names_cannot_leave_the_template_folders(ws, name) -> None:
    with pytest.raises(TemplateError, match="not a template name"):
        check_name(name)
    with pytest.raises(TemplateError):
        find_template(ws, name)


def test_the_default_templates_ship_with_the_package() -> None:
    folder = default_templates_dir()
    assert folder.is_dir()
    for name in ("offer.md.j2", "offer.html.j2", "mail/follow-up.md.j2", "mail/new-lead.md.j2"):
        assert (folder / name).is_file(), name
    # in a checkout it is the top-level templates/ folder, the single source of truth
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if (checkout / "offer.md.j2").is_file() and not (Path(__file__).resolve().parents[2] / "crmkit/templates").exists():
        assert folder == checkout
