"""The console in a real headless Chromium (Selenium): it loads, shows the queues, follows a message, draws a saga.

Chromium and its driver come from Debian (`make browser` at the template root installs them with
apt-get); where they are missing the test skips, saying so, and tests/test_console.py still checks
the feed over plain HTTP. It saves a screenshot of each view and prints where.
"""

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from chalice_devstack.testing import Devstack
from tests.conftest import SCREENSHOTS_PROPERTY

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# Without these a headless Chromium on a machine with no network waits on updates, sync and QUIC probes.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)
WAIT_SECONDS = 20.0

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def missing_browser() -> str | None:
    """Why the browser test cannot run here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).is_file() or shutil.which(path)):
            return f"{path} is missing: `make browser` at the template root installs {package} (apt-get, as root)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Given: a headless Chromium with a fresh profile."""
    if reason := missing_browser():
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots(record_property: Callable[[str, object], None], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the views' screenshots go (CONSOLE_SCREENSHOTS, else a temporary folder); the run's summary names it."""
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path_factory.mktemp("console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    record_property(SCREENSHOTS_PROPERTY, str(folder))  # conftest's terminal summary prints it (xdist workers too)
    return folder


def wait_for(driver: Any, condition: Callable[[Any], Any]) -> Any:
    """Poll the page (it redraws every second) until condition holds."""
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(condition)


# The page redraws every second, so an element found now may be gone a moment later: each read is one
# script run in the page (atomic between redraws), not a WebElement kept across calls.


def cell_text(driver: Any, selector: str) -> str:
    """The text of the first element matching a CSS selector ("" when there is none yet)."""
    script = "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';"
    return str(driver.execute_script(script, selector))


def texts(driver: Any, selector: str) -> list[str]:
    """The text of every element matching a CSS selector."""
    script = "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent);"
    return [str(text) for text in driver.execute_script(script, selector)]


def classes(driver: Any, state: str) -> set[str]:
    """The classes of a state's node in the drawing."""
    script = "return document.querySelector(`g.node[data-state='${arguments[0]}']`)?.getAttribute('class');"
    return set(str(driver.execute_script(script, state) or "").split())


def click(driver: Any, selector: str) -> None:
    """Click the first element matching a CSS selector."""
    driver.execute_script("document.querySelector(arguments[0]).click();", selector)


def test_the_console_shows_the_queues_follows_a_message_and_draws_a_saga_path(
    browser: Any,  # first: without a browser the test skips before a devstack starts
    saga_devstack: Devstack,
    screenshots: Path,
) -> None:
    # Given: the console open on a running devstack
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#queues")
    wait_for(browser, lambda d: cell_text(d, 'tr[data-queue="saga-audit"] td.visible') == "0")
    assert [text.split()[0] for text in texts(browser, "tr[data-queue] td:first-child")] == [
        "saga-orders-dlq",
        "saga-orders",
        "saga-audit",
    ]
    # When: a message is sent
    sqs = saga_devstack.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="saga-audit")["QueueUrl"], MessageBody='{"order": "o-42"}')
    # Then: the page shows it without a reload
    wait_for(browser, lambda d: cell_text(d, 'tr[data-queue="saga-audit"] td.visible') == "1")
    assert '{"order": "o-42"}' in cell_text(browser, 'tr[data-queue="saga-audit"] .messages')
    browser.save_screenshot(str(screenshots / "1-queues.png"))

    # When: a declined order runs through the saga
    sfn = saga_devstack.client("stepfunctions")
    arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    sfn.start_execution(stateMachineArn=arn, name="o-42", input=json.dumps({"order": "o-42", "decline": True}))
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#state-machines")
    # Then: its path is drawn, the failed states marked, the compensation on the path
    wait_for(browser, lambda d: "FAILED" in cell_text(d, 'li[data-execution="o-42"]'))
    wait_for(browser, lambda d: "visited" in classes(d, "Cancelled"))
    assert {"visited", "failed"} <= classes(browser, "Charge")
    assert {"visited", "compensation"} <= classes(browser, "Release")
    assert "visited" not in classes(browser, "Confirm")
    browser.save_screenshot(str(screenshots / "3-state-machines.png"))

    # When: a correlation id is clicked among the invocations
    saga_devstack.trigger("nightly")
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#invocations")
    wait_for(browser, lambda d: "nightly" in cell_text(d, "#view-invocations table"))
    click(browser, "button.correlation")
    # Then: only that order's invocations stay
    wait_for(browser, lambda d: "nightly" not in cell_text(d, "#view-invocations table"))
    assert sorted(texts(browser, "tr.invocation td:nth-child(2)")) == ["charge", "release", "reserve"]
    browser.save_screenshot(str(screenshots / "2-invocations.png"))

    # And: the other views render what the devstack did
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#streams")
    saga_devstack.client("dynamodb").put_item(TableName="saga-ledger", Item={"id": {"S": "o-42"}})
    wait_for(browser, lambda d: "nothing processed yet" not in cell_text(d, "#view-streams table"))
    click(browser, "button.fire")  # Fire now: what `make trigger` runs
    wait_for(browser, lambda d: cell_text(d, "#notice").startswith("nightly: ok in "))
    browser.save_screenshot(str(screenshots / "4-streams-schedules.png"))
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#alarms")
    wait_for(browser, lambda d: "saga-orders-dlq-not-empty" in cell_text(d, "#view-alarms"))
    browser.save_screenshot(str(screenshots / "5-alarms.png"))
