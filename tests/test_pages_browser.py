"""The web page in a real browser: Debian's Chromium, headless, driven by Selenium against the
app served by uvicorn on a free port (in a thread of the test process).

Sign in by keyboard, Today shows a due contact's suggestion, Copy puts the draft on the
clipboard, Sent / Dismiss / Snooze swap the card without reloading the page (and the API sees
the change), a POST without the session's CSRF token is refused, a contact added with a tier and
a first pain point (a refused form keeps what was typed), a pain point added and reworded on a
contact's page without a reload, an article saved in the Library (pasted, or fetched by its
address) shows who it would help and is suggested to the contacts ticked, the Network health
page draws the API's figures, and every page fits 360 px and 1400 px without horizontal
scrolling, a label on every control. With ``GIVEFIRST_SCREENSHOT_DIR`` set, screenshots of each
page at both widths are written there as ``web-PAGE-WIDTH.png`` (``docs/`` holds the README's).

Skipped only where no Chromium and chromedriver are installed (``.ci/run`` installs them).
"""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.db import session_scope
from app.main import create_app
from app.workspaces.service import create_api_key, get_or_create_workspace
from tests.conftest import auth, make_settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no Chromium here: apt-get install chromium chromium-driver (.ci/run does)",
)

READY_TIMEOUT_S = 180  # a loaded 2-core machine can take a minute to load the model
WAIT_S = 30

if CHROMIUM is not None and CHROMEDRIVER is not None:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait


@dataclass
class Served:
    base_url: str
    app: Any

    def key(self, workspace: str) -> str:
        with session_scope(self.app.state.session_factory) as session:
            ws, _ = get_or_create_workspace(session=session, name=workspace)
            return create_api_key(session=session, workspace=ws)

    def api(self, method: str, path: str, key: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, f"{self.base_url}{path}", headers=auth(key), timeout=60, **kwargs
        )
        assert response.status_code < 300, response.text
        return response.json()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real app (daily budget 3, so that Coming up has names; pages on 127.0.0.1 may be
    saved by address) served by uvicorn."""
    settings = make_settings(
        tmp_path_factory.mktemp("browser") / "data",
        daily_budget=3,
        fetch_allowed_hosts=["127.0.0.1"],
    )
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, "uvicorn not ready"
            time.sleep(0.1)  # poll interval of a bounded readiness loop
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator["WebDriver"]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": served.base_url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    try:
        yield driver
    finally:
        driver.quit()


PAIN = "Choosing a vendor to run our employee engagement survey"


def seed(served: Served, workspace: str) -> tuple[str, list[dict[str, Any]]]:
    """A workspace: four contacts due today (never contacted; three fit the list), an expert
    for an introduction, and articles for their pain points."""
    key = served.key(workspace)
    people = [
        ("Ann Park", "VP People", "Northwind", PAIN),
        ("Bo Lind", "Head of HR", "Contoso", "Our onboarding of new engineers takes months"),
        ("Cy Ruiz", "Founder", "Fabrikam", "Hiring our first sales leader"),
        ("Di Chen", "COO", "Tailspin", "Planning our first employee engagement survey"),
    ]
    contacts = [
        served.api(
            "POST",
            "/contacts",
            key,
            json={
                "name": name,
                "title": title,
                "company": company,
                "email": f"{name.split()[0].lower()}@{company.lower()}.example",
                "tier": "A",
                "pain_points": [pain],
            },
        )
        for name, title, company, pain in people
    ]
    served.api(
        "POST",
        "/contacts",
        key,
        json={
            "name": "Eli Stone",
            "tier": "C",
            "last_contacted_on": date.today().isoformat(),
            "expertise": ["Builds onboarding programs for engineering teams"],
        },
    )
    for n, (title, text) in enumerate(
        [
            (
                "How to choose an engagement survey vendor",
                "Choosing a firm to run your employee engagement survey: the questions to ask "
                "survey vendors, benchmarks, anonymity and action planning.",
            ),
            (
                "Onboarding engineers in weeks, not months",
                "A structured first month for new engineers: buddies, starter tasks, and a "
                "30-day check-in that cuts onboarding time.",
            ),
            (
                "Hiring your first VP of Sales",
                "When to hire the first sales leader, what to look for, and the mistakes founders "
                "make hiring their first head of sales.",
            ),
        ]
    ):
        served.api(
            "POST",
            "/articles",
            key,
            json={"title": title, "text": text, "url": f"https://example.org/{n}"},
        )
    return key, contacts


def sign_in(driver: "WebDriver", served: Served, key: str) -> None:
    """Signs in with the keyboard only: type the key, press Enter."""
    driver.delete_all_cookies()
    driver.get(f"{served.base_url}/")
    assert driver.current_url.endswith("/sign-in")
    field = driver.find_element(By.ID, "api_key")
    label = driver.find_element(By.CSS_SELECTOR, "label[for=api_key]")
    assert label.text == "API key"
    field.send_keys(key, Keys.ENTER)
    wait(driver).until(lambda d: d.current_url == f"{served.base_url}/")


def wait(driver: "WebDriver") -> "WebDriverWait[WebDriver]":
    """A wait that reads again an element replaced by a swap while it was being read."""
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=[StaleElementReferenceException])


def card_of(driver: "WebDriver", name: str) -> "WebElement":
    for card in driver.find_elements(By.CSS_SELECTOR, "article.card"):
        if card.find_element(By.TAG_NAME, "h2").text.startswith(name):
            return card
    raise AssertionError(f"no card for {name}")


def wait_status(driver: "WebDriver", card_id: str, status: str) -> "WebElement":
    def swapped(d: "WebDriver") -> Any:
        cards = d.find_elements(By.ID, card_id)
        return cards and cards[0].get_attribute("data-status") == status and cards[0]

    card: WebElement = wait(driver).until(swapped)
    return card


def mark_page(driver: "WebDriver") -> None:
    """A flag that a page load would wipe out."""
    driver.execute_script("window.notReloaded = true;")


def not_reloaded(driver: "WebDriver") -> bool:
    return bool(driver.execute_script("return window.notReloaded === true;"))


def test_sign_in_see_the_suggestion_copy_the_draft_and_mark_it_sent(
    served: Served, browser: "WebDriver"
) -> None:
    key, contacts = seed(served, "copy-and-sent")
    sign_in(browser, served, key)
    ann = card_of(browser, "Ann Park")
    assert "How to choose an engagement survey vendor" in ann.text
    assert "Why:" in ann.text and f"They said: {PAIN}" in ann.text
    assert ann.find_element(By.CSS_SELECTOR, "blockquote.passage").text.strip()
    assert "Tier A" in ann.text and "due today" in ann.text
    mailto = ann.find_element(By.LINK_TEXT, "Open in your mail app").get_attribute("href")
    assert mailto is not None and mailto.startswith("mailto:ann@northwind.example?subject=")
    assert "Coming up" in browser.find_element(By.CSS_SELECTOR, ".coming-up").text

    draft = ann.find_element(By.CSS_SELECTOR, "textarea[id$='-email']")
    expected = draft.get_attribute("value")
    assert expected and expected.startswith("Hi Ann")
    draft_id = draft.get_attribute("id")
    mark_page(browser)
    ann.find_element(By.CSS_SELECTOR, f"button[data-copy='{draft_id}']").click()
    wait(browser).until(lambda d: d.find_element(By.ID, f"{draft_id}-status").text == "Copied.")
    clipboard = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, (e) => done('error: ' + e));"
    )
    assert clipboard == expected

    card_id = ann.get_attribute("id")
    assert card_id is not None
    suggestion_id = int(card_id.removeprefix("card-"))
    sent = ann.find_element(By.XPATH, ".//button[normalize-space()='Mark sent']")
    sent.send_keys(Keys.ENTER)  # keyboard: the focused button, Enter
    card = wait_status(browser, card_id, "sent")
    assert "Marked sent." in card.text and "ledger" in card.text
    assert not_reloaded(browser)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("data-focus") is not None  # focus follows the swap

    ledger = served.api("GET", f"/contacts/{contacts[0]['id']}/ledger", key)
    assert [g["suggestion_id"] for g in ledger["gives"]] == [suggestion_id]


def test_dismiss_with_a_reason_and_snooze_without_a_reload(
    served: Served, browser: "WebDriver"
) -> None:
    key, contacts = seed(served, "dismiss-and-snooze")
    sign_in(browser, served, key)
    mark_page(browser)

    bo = card_of(browser, "Bo Lind")
    bo_id = bo.get_attribute("id")
    assert bo_id is not None
    Select(bo.find_element(By.CSS_SELECTOR, "select[name=reason]")).select_by_visible_text(
        "They already have it"
    )
    bo.find_element(By.XPATH, ".//button[normalize-space()='Dismiss']").click()
    card = wait_status(browser, bo_id, "dismissed")
    assert "Dismissed: they already have it." in card.text

    cy = card_of(browser, "Cy Ruiz")
    cy_id = cy.get_attribute("id")
    until = (date.today() + timedelta(21)).isoformat()
    field = cy.find_element(By.CSS_SELECTOR, "input[name=until]")
    browser.execute_script("arguments[0].value = arguments[1];", field, until)
    cy.find_element(By.XPATH, ".//button[normalize-space()='Snooze']").click()
    wait(browser).until(lambda d: "Snoozed until" in d.find_element(By.ID, str(cy_id)).text)
    assert not_reloaded(browser)

    daily = served.api("GET", "/daily", key)
    statuses = {i["contact"]["name"]: i["suggestion"]["status"] for i in daily["items"]}
    assert statuses["Bo Lind"] == "dismissed"
    assert "Cy Ruiz" not in statuses  # snoozed: off the list while its suggestion is open
    cy_record = served.api("GET", f"/contacts/{contacts[2]['id']}", key)
    assert cy_record["snoozed_until"] == until


def test_a_post_without_the_csrf_token_is_refused(served: Served, browser: "WebDriver") -> None:
    key, contacts = seed(served, "csrf")
    sign_in(browser, served, key)
    ann = card_of(browser, "Ann Park")
    card_id = ann.get_attribute("id")
    assert card_id is not None
    path = f"/today/suggestions/{card_id.removeprefix('card-')}/sent"
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', headers: {'HX-Request': 'true'}})"
        ".then((r) => done(r.status), (e) => done(String(e)));",
        path,
    )
    assert status == 403  # same origin, the session cookie sent, but no token
    ledger = served.api("GET", f"/contacts/{contacts[0]['id']}/ledger", key)
    assert ledger["given"] == 0


def test_add_a_pain_point_on_a_contact_page_without_a_reload(
    served: Served, browser: "WebDriver"
) -> None:
    key, contacts = seed(served, "pain-point")
    sign_in(browser, served, key)
    browser.find_element(By.LINK_TEXT, "Contacts").click()
    wait(browser).until(lambda d: d.current_url.endswith("/people"))
    browser.find_element(By.LINK_TEXT, "Ann Park").click()
    wait(browser).until(lambda d: d.current_url.endswith(f"/people/{contacts[0]['id']}"))
    section = browser.find_element(By.ID, "pain-points")
    assert PAIN in section.text
    assert browser.find_elements(By.CSS_SELECTOR, "[id^='suggestion-'][data-status='open']")
    mark_page(browser)

    field = browser.find_element(By.ID, "pain-text")
    label = browser.find_element(By.CSS_SELECTOR, "label[for='pain-text']")
    assert "struggles with" in label.text
    field.send_keys("Our payroll runs late every month")
    browser.find_element(By.XPATH, "//button[normalize-space()='Add pain point']").click()
    wait(browser).until(
        lambda d: "Our payroll runs late every month" in d.find_element(By.ID, "pain-points").text
    )
    assert "Pain point added." in browser.find_element(By.ID, "pain-points").text
    assert not_reloaded(browser)
    record = served.api("GET", f"/contacts/{contacts[0]['id']}", key)
    assert "Our payroll runs late every month" in [p["text"] for p in record["pain_points"]]


def test_save_an_article_in_the_library_and_see_a_recipient(
    served: Served, browser: "WebDriver"
) -> None:
    key, contacts = seed(served, "library")
    sign_in(browser, served, key)
    browser.find_element(By.LINK_TEXT, "Library").click()
    wait(browser).until(lambda d: d.current_url.endswith("/library"))
    browser.find_element(By.ID, "article-title").send_keys(
        "Picking a vendor for your employee engagement survey"
    )
    browser.find_element(By.ID, "article-text").send_keys(
        "What to ask engagement survey vendors: anonymity, benchmarks, action planning."
    )
    browser.find_element(By.XPATH, "//button[contains(., 'Save and see')]").click()
    wait(browser).until(lambda d: "/library/articles/" in d.current_url)
    recipients = browser.find_elements(By.CSS_SELECTOR, ".recipient h3 a")
    names = [r.text for r in recipients]
    assert "Ann Park" in names, names
    ann = recipients[names.index("Ann Park")]
    assert ann.get_attribute("href") == f"{served.base_url}/people/{contacts[0]['id']}"
    article_id = browser.current_url.rsplit("/", 1)[1]
    ranked = served.api("GET", f"/articles/{article_id}/recipients", key)["items"]
    assert [r["contact"]["name"] for r in ranked] == names  # the API's ranking, as it is


def test_import_a_vcard_and_see_the_report_without_a_reload(
    served: Served, browser: "WebDriver", tmp_path: Path
) -> None:
    key, _ = seed(served, "import")
    card = tmp_path / "people.vcf"
    card.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bea Okafor\nEMAIL:bea@fabrikam.example\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nN:;;;;\nEND:VCARD\n"
    )
    sign_in(browser, served, key)
    browser.find_element(By.LINK_TEXT, "Import").click()
    wait(browser).until(lambda d: d.current_url.endswith("/import"))
    mark_page(browser)
    browser.find_element(By.ID, "import-contacts-file").send_keys(str(card))
    Select(browser.find_element(By.ID, "import-contacts-format")).select_by_value("vcard")
    browser.find_element(By.XPATH, "//button[normalize-space()='Import contacts']").click()
    wait(browser).until(lambda d: "skipped" in d.find_element(By.ID, "import-contacts-report").text)
    report = browser.find_element(By.ID, "import-contacts-report").text
    assert "1 created" in report and "1 skipped" in report and "no name" in report
    assert not_reloaded(browser)
    found = served.api("GET", "/contacts?q=bea%40fabrikam.example", key)["items"]
    assert [c["name"] for c in found] == ["Bea Okafor"]


def test_add_a_contact_with_a_tier_and_a_pain_point(served: Served, browser: "WebDriver") -> None:
    key, _ = seed(served, "add-contact")
    sign_in(browser, served, key)
    browser.find_element(By.LINK_TEXT, "Contacts").click()
    wait(browser).until(lambda d: d.current_url.endswith("/people"))
    browser.find_element(By.LINK_TEXT, "Add a contact").click()
    wait(browser).until(lambda d: d.current_url.endswith("/people/new"))

    browser.find_element(By.ID, "contact-name").send_keys("   ")  # required, yet blank
    Select(browser.find_element(By.ID, "contact-tier")).select_by_visible_text("Tier A")
    browser.find_element(By.ID, "contact-pain").send_keys(PAIN)
    browser.find_element(By.XPATH, "//button[normalize-space()='Add the contact']").click()
    error = wait(browser).until(lambda d: d.find_elements(By.ID, "form-error"))[0]
    assert "Not saved: name: must not be empty" in error.text
    assert browser.find_element(By.ID, "contact-pain").get_attribute("value") == PAIN  # kept
    assert Select(browser.find_element(By.ID, "contact-tier")).first_selected_option.text == (
        "Tier A"
    )

    name = browser.find_element(By.ID, "contact-name")
    name.clear()
    name.send_keys("Fay Holm")
    browser.find_element(By.ID, "contact-company").send_keys("Woodgrove")
    browser.find_element(By.XPATH, "//button[normalize-space()='Add the contact']").click()
    wait(browser).until(lambda d: "/people/new" not in d.current_url and "Fay Holm" in d.title)
    assert PAIN in browser.find_element(By.ID, "pain-points").text
    assert "How to choose an engagement survey vendor" in browser.page_source  # matched at once
    contact_id = browser.current_url.rsplit("/", 1)[1]
    record = served.api("GET", f"/contacts/{contact_id}", key)
    assert (record["tier"], record["company"]) == ("A", "Woodgrove")
    assert [p["text"] for p in record["pain_points"]] == [PAIN]


def test_reword_a_pain_point_in_place(served: Served, browser: "WebDriver") -> None:
    key, contacts = seed(served, "reword")
    sign_in(browser, served, key)
    browser.get(f"{served.base_url}/people/{contacts[1]['id']}")
    pain = served.api("GET", f"/contacts/{contacts[1]['id']}", key)["pain_points"][0]
    mark_page(browser)
    browser.find_element(By.CSS_SELECTOR, f"#pain-{pain['id']} summary").click()
    field = browser.find_element(By.ID, f"pain-edit-{pain['id']}")
    field.clear()
    field.send_keys("   ")
    save = browser.find_element(By.XPATH, "//button[normalize-space()='Save the wording']")
    save.click()
    wait(browser).until(lambda d: "must not be empty" in d.find_element(By.ID, "flash").text)
    field.clear()
    field.send_keys("Onboarding new engineers takes three months")
    save.click()
    wait(browser).until(
        lambda d: (
            "Reworded: Onboarding new engineers takes three months"
            in d.find_element(By.ID, "pain-points").text
        )
    )
    assert not_reloaded(browser)
    assert browser.find_element(By.ID, "flash").text == ""
    stored = served.api("GET", f"/contacts/{contacts[1]['id']}", key)["pain_points"]
    assert [p["text"] for p in stored] == ["Onboarding new engineers takes three months"]


def test_save_a_web_page_by_address_and_suggest_it_to_the_ones_ticked(
    served: Served, browser: "WebDriver", web_pages: str
) -> None:
    key, contacts = seed(served, "by-address")
    sign_in(browser, served, key)
    browser.find_element(By.LINK_TEXT, "Library").click()
    wait(browser).until(lambda d: d.current_url.endswith("/library"))
    browser.find_element(By.ID, "article-page-url").send_keys(f"{web_pages}/article")
    browser.find_element(By.XPATH, "//button[contains(., 'Fetch, save')]").click()
    wait(browser).until(lambda d: "/library/articles/" in d.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Choosing an engagement survey vendor"
    names = [r.text for r in browser.find_elements(By.CSS_SELECTOR, ".recipient h3 a")]
    assert "Ann Park" in names, names
    article_id = browser.current_url.rsplit("/", 1)[1]
    ranked = served.api("GET", f"/articles/{article_id}/recipients", key)["items"]
    assert [r["contact"]["name"] for r in ranked] == names

    ticked = {
        box.get_attribute("value")
        for box in browser.find_elements(By.CSS_SELECTOR, "input[name=contact_ids]")
        if box.is_selected()
    }
    assert ticked == {str(r["contact"]["id"]) for r in ranked}  # nobody snoozed: all ticked
    for box in browser.find_elements(By.CSS_SELECTOR, "input[name=contact_ids]"):
        if box.get_attribute("value") != str(contacts[0]["id"]):
            box.click()  # untick all but Ann
    mark_page(browser)
    browser.find_element(By.XPATH, "//button[contains(., 'Suggest it to')]").click()
    note = wait(browser).until(lambda d: d.find_element(By.ID, "suggested").text and d)
    assert "Suggested to 1 contact(s)" in note.find_element(By.ID, "suggested").text
    assert not_reloaded(browser)
    link = browser.find_element(By.CSS_SELECTOR, "#suggested a")
    assert link.text == "Ann Park"
    made = served.api("GET", f"/contacts/{contacts[0]['id']}/suggestions", key)["items"]
    assert int(article_id) in [s["article"]["id"] for s in made if s["article"]]
    link.click()
    wait(browser).until(lambda d: f"/people/{contacts[0]['id']}" in d.current_url)
    assert (
        "Choosing an engagement survey vendor"
        in browser.find_element(By.ID, "suggestions-heading").find_element(By.XPATH, "..").text
    )


def test_network_health_draws_the_apis_figures(served: Served, browser: "WebDriver") -> None:
    key, _ = seed(served, "network")
    sign_in(browser, served, key)
    browser.find_element(By.LINK_TEXT, "Network").click()
    wait(browser).until(lambda d: d.current_url.endswith("/network"))
    health = served.api("GET", "/network/health", key)
    assert browser.find_element(By.ID, "health-contacts").text == str(health["contacts"])
    assert browser.find_element(By.ID, "health-due-now").text == str(health["neglect"]["due_now"])
    tier_a = browser.find_element(By.CSS_SELECTOR, "#tier-A .stacked")
    widths = [
        float(s.value_of_css_property("width").removesuffix("px"))
        for s in tier_a.find_elements(By.CSS_SELECTOR, ".seg")
    ]
    assert widths and abs(sum(widths) - tier_a.size["width"]) <= 3  # the bar is filled
    line = browser.find_element(By.CSS_SELECTOR, "svg.history polyline")
    assert line.get_attribute("points")
    assert browser.find_element(By.CSS_SELECTOR, "svg.history").size["width"] > 200
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map((r) => r.name);"
    )
    assert all(r.startswith(served.base_url) for r in resources), resources


@pytest.fixture(scope="module")
def widths_workspace(served: Served) -> tuple[str, dict[str, str]]:
    """One workspace for the width checks, and the path of each page to check."""
    key, contacts = seed(served, "widths")
    articles = served.api("GET", "/articles", key)["items"]
    article = next(a for a in articles if "engagement survey" in a["title"])  # two recipients
    return key, {
        "today": "/",
        "contacts": "/people",
        "contact": f"/people/{contacts[0]['id']}",
        "library": "/library",
        "article": f"/library/articles/{article['id']}",
        "import": "/import",
        "new-contact": "/people/new",
        "network": "/network",
    }


PAGES = ["today", "contacts", "contact", "library", "article", "import", "new-contact", "network"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("width", [1400, 360])
def test_each_page_fits_the_width_without_horizontal_scrolling(
    served: Served,
    browser: "WebDriver",
    widths_workspace: tuple[str, dict[str, str]],
    width: int,
    page: str,
) -> None:
    key, paths = widths_workspace
    sign_in(browser, served, key)
    browser.get(f"{served.base_url}{paths[page]}")
    try:
        browser.set_window_size(width, 900)
        inner = browser.execute_script("return window.innerWidth;")
        assert abs(inner - width) <= 20, inner  # the window is the width asked for
        scroll = browser.execute_script("return document.documentElement.scrollWidth;")
        wide = browser.execute_script(
            "return [...document.querySelectorAll('body *')]"
            ".filter((e) => e.getBoundingClientRect().right > window.innerWidth)"
            ".map((e) => e.tagName + '#' + e.id + '.' + e.className);"
        )
        assert scroll <= inner, f"{scroll} px of content in a {inner} px window: {wide}"
        controls = browser.find_elements(
            By.CSS_SELECTOR, "select, textarea, input:not([type=hidden])"
        )
        assert controls or page in ("contacts", "network")
        for control in controls:
            control_id = control.get_attribute("id")
            assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{control_id}']")
        shots = os.environ.get("GIVEFIRST_SCREENSHOT_DIR")
        if shots:
            height = browser.execute_script("return document.documentElement.scrollHeight;")
            browser.set_window_size(width, min(int(height) + 140, 6000))
            browser.save_screenshot(str(Path(shots) / f"web-{page}-{width}.png"))
    finally:
        browser.set_window_size(1400, 1000)
