"""`syncnet report`: one self-contained HTML file (docs/report.md). Its content is read
back with an HTML parser and compared with what the other commands say; then the page is
loaded in headless Chromium with the network refused (tests/headless.py), which must show
it whole with no request and no console error. A screenshot is kept: under the test's
tmp dir, and in tests/artifacts/ when SYNCNET_ARTIFACTS is set."""

from __future__ import annotations

import os
import shutil
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support import Runner, T

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "Eve <script>alert(\"x\")</script> & 'co'"  # a name that would be markup, were it not escaped
MONTHS = ["2025-11", "2025-12", *(f"2026-{m:02d}" for m in range(1, 12))]


# ---------------------------------------------------------------- a small DOM
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> list[Node]:
        out = [self]
        for c in self.children:
            if isinstance(c, Node):
                out += c.walk()
        return out

    def find(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Descendants of `tag` (any, when None) whose attributes hold these values; `cls`
        matches one word of `class`."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        cls = wanted.pop("cls", None)
        return [
            n
            for n in self.walk()[1:]
            if (tag is None or n.tag == tag)
            and all(n.attrs.get(k) == v for k, v in wanted.items())
            and (cls is None or cls in (n.attrs.get("class") or "").split())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def child(self, tag: str) -> Node:
        return next(c for c in self.children if isinstance(c, Node) and c.tag == tag)


class Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.at = Node("#document", {}, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.at.children.append(Node(tag, dict(attrs), self.at))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"</{tag}> closes nothing open"
        self.at = node.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def parse(page: str) -> Node:
    tree = Tree()
    tree.feed(page)
    tree.close()
    assert tree.at is tree.root, f"<{tree.at.tag}> left open"
    return tree.root


# ---------------------------------------------------------------- the network
def network(run: Runner) -> None:
    """Five contacts, help both ways, promises kept, late, open and overdue, and an
    introductions graph of Ada -> Bob -> Eve (Ada and Eve introduced by me), Bob -> Zed
    (forgotten); Dora met alone."""
    run.ok("init")
    for args in [
        ("meet", "Ada Lovelace", "--on", "2026-01-05"),
        ("meet", "Bob Smith", "--via", "Ada", "--org", "Xerox PARC", "--on", "2026-02-05"),
        ("meet", HOSTILE, "--org", "Acme", "--on", "2026-03-05"),
        ("receive", "Bob", "--kind", "introduction", "--to", "Eve", "--on", "2026-03-06"),
        ("give", "Ada", "--kind", "advice", "--minutes", "20", "--on", "2026-04-01"),
        ("meet", "Zed Forgettable", "--via", "Bob", "--on", "2026-04-10"),
        ("pitch", "--minutes", "15", "--on", "2026-05-01"),
        ("receive", "Ada", "--kind", "advice", "--on", "2026-05-10"),
        ("touch", "Ada", "--minutes", "5", "--on", "2026-05-31"),  # a month's last day: May's, not June's
        ("give", "Ada", "--kind", "introduction", "--to", "Eve", "--minutes", "10", "--on", "2026-06-02"),
        ("meet", "Dora Maar", "--on", "2026-07-01"),
        ("ask", "Bob", "a job", "--on", "2026-08-01"),
    ]:
        run.ok(*args, *T)
    promises = {}
    for who, what, due, on in [
        ("Ada", "send slides", "2026-07-01", "2026-06-01"),
        ("Bob", "call back", "2026-08-15", "2026-08-01"),
        ("Eve", "book a table", "2026-12-01", "2026-09-05"),
        ("Ada", "an intro", "2026-10-01", "2026-09-01"),
    ]:
        promises[what] = run.json("promise", who, what, "--due", due, "--on", on, *T)["recorded"][
            "promise_id"
        ]
    run.ok("kept", promises["send slides"], "--on", "2026-06-20", *T)
    run.ok("kept", promises["call back"], "--on", "2026-09-01", *T)
    run.ok("forget", "Zed", "--yes")


@pytest.fixture
def report(run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    network(run)
    monkeypatch.chdir(tmp_path)  # the default file is in the current directory
    out = run.ok("report", *T).stdout
    path = tmp_path / "syncnet-report.html"
    assert out.startswith("Wrote syncnet-report.html (") and "keep it private" in out
    return path


# ---------------------------------------------------------------- the content
def test_the_report_says_what_the_other_commands_say(run: Runner, report: Path) -> None:
    assert stat.S_IMODE(report.stat().st_mode) == 0o600  # it holds names
    page = report.read_text(encoding="utf-8")
    doc = parse(page)
    assert doc.one("head").child("title").text() == "syncnet report, 2026-11-20"

    # the agenda: `due`, item by item
    due = run.json("due", *T)["agenda"]
    rows = doc.one("section", id="agenda").find("tr")[1:]
    assert [(r.attrs["data-rule"], r.attrs["data-state"], r.find("td")[3].text()) for r in rows] == [
        (i["rule"], i["state"], i["summary"]) for i in due
    ]
    assert len(rows) == len(due) > 3

    # balance over time: `balance`, and `balance --as-of` at a month's end
    table = doc.one("section", id="balance").one("table")
    assert table.attrs["data-months"] == ",".join(MONTHS)
    got = {r.find("td")[0].text().split(" (")[0]: r.attrs for r in table.find("tr")[1:]}
    balances = {c["contact"]["name"]: c for c in run.json("balance", *T)["contacts"]}
    assert set(got) == {"Ada Lovelace", "Bob Smith"}  # Eve and Dora: no help either way; Zed forgotten
    for name, attrs in got.items():
        b = balances[name]
        assert (attrs["data-given"], attrs["data-received"], attrs["data-balance"]) == (
            str(b["given"]),
            str(b["received"]),
            str(b["balance"]),
        )
    assert got["Ada Lovelace"]["data-series"] == "0,0,0,0,0,1,0,1,1,1,1,1,1"
    assert got["Bob Smith"]["data-series"] == "0,0,0,0,-1,-1,-1,-1,-1,-1,-1,-1,-1"
    may = {
        c["contact"]["name"]: c["balance"]
        for c in run.json("balance", "--as-of", "2026-05-31", *T)["contacts"]
    }
    assert (
        may["Ada Lovelace"] == 0
        and got["Ada Lovelace"]["data-series"].split(",")[MONTHS.index("2026-05")] == "0"
    )

    # 70-20-10 by month; the window as `split` counts it
    split = {
        r.attrs["data-month"]: (
            int(r.attrs["data-give"]),
            int(r.attrs["data-self"]),
            int(r.attrs["data-ask"]),
        )
        for r in doc.one("section", id="split").find("tr")[1:]
    }
    parts = run.json("split", *T)["parts"]
    assert split.pop("window") == (
        parts["give"]["minutes"],
        parts["self"]["minutes"],
        parts["ask"]["minutes"],
    )
    assert list(split) == MONTHS
    assert {m: v for m, v in split.items() if v != (0, 0, 0)} == {
        "2026-01": (30, 0, 0),
        "2026-02": (30, 0, 0),
        "2026-03": (30, 0, 0),
        "2026-04": (50, 0, 0),  # advice 20 + Zed's first meeting 30 (forgotten: the minutes stay)
        "2026-05": (5, 15, 0),
        "2026-06": (10, 0, 0),
        "2026-07": (30, 0, 0),
        "2026-08": (0, 0, 10),
    }
    assert tuple(map(sum, zip(*split.values(), strict=True))) == (185, 15, 10)
    assert "70-20-10" in doc.one("section", id="split").one("p", cls="note").text()

    # promises: the credibility of `balance`, and each promise's state
    credibility = run.json("balance", *T)["credibility"]
    line = doc.one("p", id="credibility")
    assert (
        (line.attrs["data-kept"], line.attrs["data-due"])
        == ("1", "3")
        == (str(credibility["kept_on_time"]), str(credibility["came_due"]))
    )
    states = {
        r.find("td")[2].text(): r.attrs["data-status"]
        for r in doc.one("section", id="promises").find("tr")[1:]
    }
    assert states == {
        "send slides": "kept",
        "call back": "kept late",
        "book a table": "open",
        "an intro": "overdue",
    }

    # the introductions graph: me and the four contacts of an introduction; Dora is counted
    svg = doc.one("svg", id="graph")
    nodes = svg.find("g", cls="node")
    assert len(nodes) == 5 == int(svg.attrs["data-nodes"])
    tips = sorted(n.child("title").text().split(" (")[0] for n in nodes)
    assert tips == sorted(["you", "Ada Lovelace", "Bob Smith", HOSTILE, "[forgotten]"])
    assert [n.attrs["class"] for n in nodes if "[forgotten]" in n.text()] == ["node forgotten"]
    kinds = sorted(e.attrs["class"] for e in svg.find("line", cls="edge"))
    assert kinds == sorted(["edge met", "edge via", "edge via", "edge introduced", "edge i-introduced"])
    assert "4 contacts drawn; 1 you met with no introduction" in doc.one("section", id="introductions").text()


def test_every_text_is_escaped_and_nothing_is_loaded(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    doc = parse(page)
    # the hostile name is text wherever it shows, never markup
    assert doc.find("script") == []
    assert (
        "<script>alert" not in page
        and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;co&#x27;" in page
    )
    assert any(HOSTILE in n.text() for n in doc.find("td"))
    assert any(n.child("title").text().startswith(HOSTILE + " (") for n in doc.find("g", cls="node"))
    # nothing the browser would fetch: no URL but the page's own anchors, no "://" at all
    for node in doc.walk():
        for name, value in node.attrs.items():
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data", "background"):
                assert (value or "").startswith("#"), (node.tag, name, value)
            assert "url(" not in (value or ""), (node.tag, name)
    assert "://" not in page and "@import" not in page and "url(" not in page
    csp = doc.one("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert csp is not None and csp.startswith("default-src 'none';") and "script-src" not in csp
    # a forgotten contact's name is nowhere
    assert "Zed" not in page and "Forgettable" not in page


def test_report_file_choices(run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run.ok("init")
    run.ok("meet", "Ada Lovelace", "--on", "2026-01-05", *T)
    old = tmp_path / "old.html"
    old.write_text("an older report")
    old.chmod(0o644)
    run.ok("report", old, *T)  # replaced, and readable by me only from now on
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and "Ada Lovelace" in old.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".syncnet-report-")] == []
    streamed = run.ok("report", "-", *T).stdout
    assert (
        streamed.startswith("<!doctype html>")
        and parse(streamed).one("head").child("title").text() == "syncnet report, 2026-11-20"
    )
    assert "no such directory" in run.fails("report", tmp_path / "missing" / "r.html", *T)
    assert "is a directory" in run.fails("report", tmp_path, *T)
    # an empty network is a report too
    run2 = Runner(tmp_path / "empty-home", tmp_path)
    run2.ok("init")
    empty = parse(run2.ok("report", "-", *T).stdout)
    assert empty.one("p", cls="count").attrs["data-count"] == "0"
    assert len(empty.one("svg", id="graph").find("g", cls="node")) == 1  # me


# ---------------------------------------------------------------- in a browser
def _browser_or_skip() -> str:
    from headless import chromium

    found = chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and CI must run the browser test (.ci/run installs it)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); CI runs this test")
    return found


def test_the_report_renders_offline_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    from headless import Browser

    browser = Browser(_browser_or_skip(), tmp_path / "profile", tmp_path / "chromium.log")
    try:
        # the harness first: a page that does fetch and does log an error is seen doing both,
        # and its request fails (the network is refused)
        control = tmp_path / "control.html"
        control.write_text(
            '<!doctype html><title>control</title><img src="http://example.com/a.png">'
            '<script>console.error("seen")</script>'
        )
        seen = browser.open(control.as_uri())
        assert seen.requests == [control.as_uri(), "http://example.com/a.png"], seen
        assert seen.failed and "console: seen" in seen.errors, seen

        url = report.as_uri()
        loaded = browser.open(url)
        assert loaded.requests == [url], loaded.requests  # the page itself, nothing else
        assert loaded.errors == [] and loaded.failed == [], loaded
        assert browser.evaluate("document.title") == "syncnet report, 2026-11-20"
        assert browser.evaluate("document.querySelectorAll('#graph .node').length") == 5
        assert browser.evaluate("document.scripts.length") == 0
        assert browser.evaluate("document.querySelectorAll('#agenda tbody tr').length") > 3
        # the graph is laid out: five distinct places inside the drawing
        boxes = browser.evaluate("""[...document.querySelectorAll('#graph .node circle')].map(c => {
            const b = c.getBoundingClientRect(); return [Math.round(b.x), Math.round(b.y), b.width]; })""")
        assert len({(x, y) for x, y, _ in boxes}) == 5 and all(w > 5 for *_, w in boxes), boxes
        # hover shows a name: the label of the dot under the mouse, and only that one
        where = browser.evaluate("""(() => {
            const n = [...document.querySelectorAll('#graph .node.contact')]
                .find(n => n.querySelector('title').textContent.startsWith('Bob Smith'));
            n.scrollIntoView({block: 'center'});
            const b = n.querySelector('circle').getBoundingClientRect();
            return [b.x + b.width / 2, b.y + b.height / 2]; })()""")
        visible = (
            "[...document.querySelectorAll('#graph .node.contact .label')]"
            ".filter(l => getComputedStyle(l).visibility === 'visible').map(l => l.textContent)"
        )
        assert browser.evaluate(visible) == []
        browser.hover(*where)
        assert browser.evaluate(visible) == ["Bob Smith"]
        shot = browser.screenshot()
    finally:
        browser.close()
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and len(shot) > 10_000
    kept = tmp_path / "report.png"
    kept.write_bytes(shot)
    if os.environ.get("SYNCNET_ARTIFACTS"):
        artifacts = ROOT / "tests" / "artifacts"
        artifacts.mkdir(exist_ok=True)
        shutil.copyfile(kept, artifacts / "report.png")
        shutil.copyfile(report, artifacts / "report.html")


def test_bidi_and_control_characters_of_a_name_never_reach_the_page() -> None:
    from syncnet.app.report import esc

    hostile = "Ev\u202eil\u2066x\u200f\x1b[31m\x85"
    shown = esc(hostile)
    assert not any(ch in shown for ch in "\u202e\u2066\u200f\x1b\x85"), repr(shown)
    assert shown.startswith("Ev\ufffdil")
