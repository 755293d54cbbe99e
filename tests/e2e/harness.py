"""The browser harness: a real platform (server + worker + SMTP sink) and the page checks.

Every journey test uses the fixtures of `tests/e2e/conftest.py` (`server`, `page`, `context`,
`new_page`) and these helpers. A domain adds its journey as `tests/e2e/test_<domain>_journey.py`:

    import pytest
    from tests.e2e.harness import E2EServer, check_page, login

    pytestmark = pytest.mark.e2e

    def test_citizen_votes(server: E2EServer, page: Page) -> None:
        citizen = server.create_user()                   # verified, password DEFAULT_PASSWORD
        with server.session() as s:                       # arrange data with tests/factories.py
            ...; s.commit()
        login(page, citizen.email)                        # through the login form
        page.goto("/calls/1")
        check_page(page, "call")                          # axe, HTML saved for vnu, mobile, JS budget
        page.get_by_role("button", name="Soutenir").click()

`check_page(page, name)` is the one call that puts a page under every check of issue 6:
- axe-core (WCAG 2.1 A/AA rules and best practices): zero violations of any impact;
- the HTML the server sent is saved under test-artifacts/html/ and validated once, at the end of
  the session, by the W3C Nu validator (vnu.jar): zero errors;
- no Content-Security-Policy violation and no JavaScript error in the console;
- at most 100 KB of JavaScript loaded by the page; every <img> has width, height, alt and
  loading="lazy", except one main picture at the top marked fetchpriority="high" (lazy loading
  it would delay the largest paint);
- at 390x844 (a phone): no horizontal scrolling, touch targets at least 44x44 px, text at least
  16 px, and a full-page screenshot in test-artifacts/screenshots/<name>-<lang>.png.

Touch targets (WCAG 2.5.5, stricter than 2.5.8's 24 px): every visible a[href], button, input,
select, textarea and summary must be at least 44 px high and wide. Exempt, as WCAG 2.5.8's
"inline" exception says: a link whose box is `display: inline` inside a block of running text
(p, li, dd, td, th, figcaption, blockquote, label) that holds more text than the link itself.
A checkbox or radio button is measured together with its label, since a click on the label
toggles it. Elements that are visually hidden (1 px boxes) or off-screen (the skip link until it
has focus) are not targets.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Response
from sqlmodel import Session

from app.account.models import Role, User
from app.account.sessions import SESSION_COOKIE, start_session
from app.db import Database
from app.settings import Settings
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.support import SmtpSink, body_of, links_in

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
HTML_DIR = ARTIFACTS / "html"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MAX_JS_BYTES = 100 * 1024
MIN_TARGET_PX = 44
MIN_FONT_PX = 16
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


# ----------------------------------------------------------------------------------------------
# The platform under test: real processes on loopback


@dataclass
class E2EServer:
    """The platform served by `reinventons serve` and `reinventons worker` subprocesses."""

    url: str
    settings: Settings
    smtp: SmtpSink
    db: Database
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_path: Path = ARTIFACTS / "e2e-server.log"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write session on the server's database, to arrange data; commit what pages must see."""
        with self.db.session(write=True) as s:
            yield s

    def create_user(self, *, role: Role | str = Role.citizen, email: str | None = None,
                    display_name: str | None = None, language: str = "fr", verified: bool = True,
                    password: str | None = None) -> User:
        """A user who can log in with `password` (DEFAULT_PASSWORD unless given)."""
        with self.session() as s:
            user = make_user(s, email=email or unique_email(str(role)), display_name=display_name,
                             role=role, language=language, verified=verified, password=password)
            s.commit()
            return user

    def wait_for_mail(self, address: str, *, count: int = 1, timeout: float = 15) -> Message:
        """The newest e-mail to `address` once at least `count` arrived (the worker sends them)."""
        deadline = time.monotonic() + timeout
        while len(self.smtp.to(address)) < count:
            self.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"no e-mail #{count} reached {address} within {timeout} s "
                                     f"(see {self.log_path})")
            time.sleep(0.1)
        return self.smtp.to(address)[-1]

    def link_in_mail(self, message: Message, path: str) -> str:
        """The link to this server whose path starts with `path`, from an e-mail."""
        for link in links_in(message):
            if link.startswith(self.url + path):
                return link
        raise AssertionError(f"no link to {path} in the e-mail:\n{body_of(message)}")

    def check_alive(self) -> None:
        for proc in self.processes:
            if proc.poll() is not None:
                raise AssertionError(f"{proc.args!r} exited with {proc.returncode}; see {self.log_path}")


def unique_email(prefix: str = "citizen") -> str:
    return f"{re.sub(r'[^a-z0-9]', '', prefix.lower()) or 'user'}-{uuid.uuid4().hex[:10]}@example.org"


def start_processes(env: dict[str, str], port: int, log_path: Path) -> list[subprocess.Popen[bytes]]:
    """`reinventons serve` and `reinventons worker`, logging to one file; waits for /healthz."""
    log = log_path.open("ab")
    python = sys.executable
    serve = subprocess.Popen([python, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = subprocess.Popen([python, "-m", "app.cli", "worker"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    processes = [serve, worker]
    deadline = time.monotonic() + 60
    while True:
        for proc in processes:
            if proc.poll() is not None:
                stop_processes(processes)
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return processes
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_processes(processes)
            raise RuntimeError(f"the server did not answer /healthz:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ----------------------------------------------------------------------------------------------
# What each page loaded, recorded by listeners that the context fixtures attach


@dataclass
class PageLog:
    document: Response | None = None
    scripts: list[Response] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


_LOGS: "weakref.WeakKeyDictionary[Page, PageLog]" = weakref.WeakKeyDictionary()


def log_of(page: Page) -> PageLog:
    return _LOGS.setdefault(page, PageLog())


def instrument(context: BrowserContext) -> BrowserContext:
    """Record, per page, the last document response, its scripts and console errors."""

    def on_page(page: Page) -> None:
        log_of(page)

        def on_response(response: Response) -> None:
            request = response.request
            log = log_of(page)
            if request.is_navigation_request() and response.frame == page.main_frame:
                if not 300 <= response.status < 400:
                    log.document = response
                    log.scripts = []
                    log.console_errors = []
            # A script of the previous page can be reported after the next page's document (the
            # events are asynchronous): one entry per URL, so a page is never charged twice.
            elif request.resource_type == "script" and all(seen.url != response.url for seen in log.scripts):
                log.scripts.append(response)

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            log = log_of(page)
            # The browser reports the page's own status (a 404 page, a 422 form): tests check those.
            if (message.text.startswith("Failed to load resource: the server responded with a status")
                    and log.document is not None and message.location.get("url") == log.document.url):
                return
            log.console_errors.append(message.text)

        page.on("response", on_response)
        page.on("console", on_console)
        page.on("pageerror", lambda error: log_of(page).console_errors.append(f"uncaught: {error}"))

    context.on("page", on_page)
    return context


# ----------------------------------------------------------------------------------------------
# Journeys' common steps


def login(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, in whatever language the page is in (labels are matched in fr/en)."""
    page.goto("/account/login")
    page.get_by_label(re.compile(r"^(Adresse e-mail|E-mail address)")).fill(email)
    page.get_by_label(re.compile(r"^(Mot de passe|Password)")).fill(password)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name=re.compile(r"^(Se connecter|Log in)$")).click()
    assert "/account/login" not in page.url, f"login failed: {page.locator('main').inner_text()}"


def login_as(context: BrowserContext, server: E2EServer, user: User) -> None:
    """Log in without the form (faster, for journeys that are not about logging in)."""
    with server.session() as s:
        token = start_session(s, user, days=1)
        s.commit()
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": server.url}])


def open_menu(page: Page) -> None:
    """Unfold the header's menu where it is folded (a phone; a signed-in person's header below
    1440 px, staff's below 1600 px)."""
    button = page.locator(".menu-button")
    if button.is_visible():
        button.click()


def logout(page: Page) -> None:
    open_menu(page)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^(Se déconnecter|Log out|Afmelden|Abmelden)$")).click()


# ----------------------------------------------------------------------------------------------
# Keyboard


FOCUS_STYLE_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {ok: false, what: 'nothing focused'};
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  const onScreen = r.width > 1 && r.height > 1 && r.bottom > 0 && r.right > 0
                   && r.top < window.innerHeight && r.left < window.innerWidth;
  const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
               (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40) + '"';
  return {ok: (outline || shadow) && onScreen, what, outline, shadow, onScreen};
}"""


def assert_focus_visible(page: Page) -> str:
    """The focused element shows a focus indicator (outline or box-shadow) and is on screen."""
    state = page.evaluate(FOCUS_STYLE_JS)
    assert state["ok"], f"focus not visible on {state}"
    return str(state["what"])


def tab_to(page: Page, target: Any, max_tabs: int = 40) -> list[str]:
    """Press Tab until the locator `target` has focus, checking the focus is visible at each stop.

    Returns the focused elements in order (for asserting a sensible tab order)."""
    visited = []
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        visited.append(assert_focus_visible(page))
        if target.evaluate("el => el === document.activeElement"):
            return visited
    raise AssertionError(f"{target} not reached after {max_tabs} Tabs: {visited}")


# ----------------------------------------------------------------------------------------------
# The page checks


SAVED_HTML: dict[str, Path] = {}  # "name-lang" -> the HTML the server sent, for vnu.jar
VALIDATION_DIR = Path(tempfile.mkdtemp(prefix="reinventons-html-"))


MOBILE_PROBLEMS_JS = """([minTarget, minFont]) => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    const wide = [...document.body.querySelectorAll('*')]
      .filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5)
      .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
    problems.push(`horizontal scrolling: ${root.scrollWidth}px wide for ${root.clientWidth}px (${wide.join(', ')})`);
  }
  const shown = el => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== 'hidden' && r.bottom > 0 && r.right > 0;
  };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '') +
    ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 30) + '"';
  const inlineInText = el => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const block = el.parentElement && el.parentElement.closest('p, li, dd, td, th, figcaption, blockquote, label');
    if (!block) return false;
    const squash = t => t.replace(/\\s+/g, ' ').trim();
    return squash(block.textContent).length > squash(el.textContent).length;
  };
  const targets = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary');
  for (const el of targets) {
    if (!shown(el) || inlineInText(el)) continue;
    let r = el.getBoundingClientRect();
    if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length) {
      const l = el.labels[0].getBoundingClientRect();
      r = {width: Math.max(r.right, l.right) - Math.min(r.left, l.left),
           height: Math.max(r.bottom, l.bottom) - Math.min(r.top, l.top)};
    }
    if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5) {
      problems.push(`touch target ${Math.round(r.width)}x${Math.round(r.height)}px: ${describe(el)}`);
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const small = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || small.has(el) || !shown(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < minFont - 0.01) {
      small.add(el);
      problems.push(`text ${size}px: ${describe(el)}`);
    }
  }
  return problems;
}"""

IMAGE_PROBLEMS_JS = """() => [...document.images].flatMap((img, index, all) => {
  const missing = [];
  // One image, the page's main picture at the top, may load eagerly if it says so.
  const eager = img.getAttribute('fetchpriority') === 'high'
    && all.filter(i => i.getAttribute('fetchpriority') === 'high').length === 1;
  if (img.getAttribute('loading') !== 'lazy' && !eager) {
    missing.push('loading="lazy" (or fetchpriority="high" on the one main image)');
  }
  if (!img.getAttribute('width') || !img.getAttribute('height')) missing.push('width and height');
  if (!img.hasAttribute('alt')) missing.push('alt');
  return missing.length ? [`${img.getAttribute('src')}: missing ${missing.join(', ')}`] : [];
})"""


# Loads the page's lazy images now and returns the addresses of those that did not load. A
# full-page screenshot does not scroll: an image below the first screen stayed an empty box
# (the dialogue chart of a call's page, seen in its screenshot as a gap above its table), and
# such an image that fails to load was never seen failing. Run after the checks above, which
# ask for loading="lazy".
LAZY_IMAGES_JS = """async () => {
  const lazy = [...document.images].filter(img => img.loading === 'lazy');
  lazy.forEach(img => { img.loading = 'eager'; });
  await Promise.all(lazy.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
    setTimeout(done, 5000);
  })));
  lazy.forEach(img => { img.loading = 'lazy'; });  // as it was: a page may be checked again
  return lazy.filter(img => img.complete && img.naturalWidth === 0).map(img => img.getAttribute('src'));
}"""


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    # Evaluated through the DevTools protocol, which the page's CSP does not govern: the CSP
    # stays in force, so the checks below also catch inline scripts and styles it refuses.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' +
                                            (n.failureSummary || '').split('\\n').slice(1).join(' '))}));
    }""")
    return list(result)


def _language(page: Page) -> str:
    return str(page.evaluate("() => document.documentElement.lang") or "none")


def check_page(page: Page, name: str, *, mobile: bool = True, screenshot: bool = True,
               max_js_bytes: int = MAX_JS_BYTES) -> None:
    """Run every page check of issue 6 on the page as it is now (see the module docstring).
    `max_js_bytes`: a larger budget only for a page whose visitor asked for something heavy
    since it loaded (a map: Leaflet, which static/js/map.js loads on request)."""
    page.wait_for_load_state("load")
    lang = _language(page)
    key = f"{name}-{lang}"
    log = log_of(page)
    problems: list[str] = []

    for violation in _axe_violations(page):
        problems.append(f"axe {violation['id']} ({violation['impact']}): {violation['help']}")
        problems.extend(f"    {node}" for node in violation["nodes"])

    problems.extend(f"console: {text}" for text in log.console_errors)

    js_bytes = 0
    for response in log.scripts:
        try:
            js_bytes += len(response.body())
        except Exception:  # noqa: BLE001 - a body that is gone still counted in its header
            js_bytes += int(response.headers.get("content-length", "0") or 0)
    if js_bytes > max_js_bytes:
        problems.append(f"{js_bytes} bytes of JavaScript (at most {max_js_bytes})")
    problems.extend(f"image {p}" for p in page.evaluate(IMAGE_PROBLEMS_JS))

    try:
        source = log.document.text() if log.document is not None else page.content()
    except Exception:  # noqa: BLE001 - the browser may have evicted the body: use the live DOM
        source = page.content()
    # One copy for people to read, one in this run's own folder for the validator (several runs
    # may share the work tree).
    for folder in (HTML_DIR, VALIDATION_DIR):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.html").write_text(source, encoding="utf-8")
    SAVED_HTML[key] = VALIDATION_DIR / f"{key}.html"

    if screenshot:
        problems.extend(f"image {src} did not load" for src in page.evaluate(LAZY_IMAGES_JS))
    if mobile:
        size = page.viewport_size or DESKTOP
        page.set_viewport_size(MOBILE)
        try:
            problems.extend(page.evaluate(MOBILE_PROBLEMS_JS, [MIN_TARGET_PX, MIN_FONT_PX]))
            if screenshot:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"{key}.png"), full_page=True)
        finally:
            page.set_viewport_size(size)
    if screenshot:  # and at desktop size: people look at both before a page change is resolved
        size = page.viewport_size or DESKTOP
        page.set_viewport_size(DESKTOP)
        try:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{key}-desktop.png"), full_page=True)
        finally:
            page.set_viewport_size(size)

    assert not problems, f"page {key} ({page.url}):\n  " + "\n  ".join(problems)


def visit_and_check(page: Page, path: str, name: str, languages: tuple[str, ...] = ("fr", "en"),
                    expect_status: int = 200) -> None:
    """Open `path` in each language (through ?lang=) and check the page each time."""
    for lang in languages:
        sep = "&" if "?" in path else "?"
        response = page.goto(f"{path}{sep}lang={lang}")
        assert response is not None and response.status == expect_status, (
            f"{path} in {lang}: HTTP {response.status if response else '?'}")
        assert _language(page) == lang
        check_page(page, name)


# ----------------------------------------------------------------------------------------------
# The W3C validator, once per session over every saved page


def validate_html(paths: list[Path]) -> dict[str, list[str]]:
    """Errors per file from the W3C Nu validator (vnu.jar), run once over all the files."""
    if not paths:
        return {}
    java = shutil.which("java")
    assert java, "java is needed for the W3C validator (scripts/setup installs default-jre-headless)"
    assert VNU_JAR.exists(), f"{VNU_JAR} is missing: run scripts/setup (npm ci)"
    run = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
                          *map(str, paths)], capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(run.stderr or run.stdout or '{"messages": []}')
    errors: dict[str, list[str]] = {}
    for message in report.get("messages", []):
        if message.get("type") not in ("error", "non-document-error"):
            continue
        where = Path(message.get("url", "?").removeprefix("file:")).name
        errors.setdefault(where, []).append(
            f"line {message.get('lastLine', '?')}: {message.get('message')} [{message.get('extract', '').strip()}]")
    return errors


def html_errors_report(errors: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}:\n    " + "\n    ".join(lines) for page, lines in sorted(errors.items()))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")

