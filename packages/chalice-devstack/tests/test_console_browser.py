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
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from chalice_devstack.testing import Devstack

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

pytestmark = pytest.mark.browser


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


@pytest.fixture(scope="module")
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the views' screenshots go (CONSOLE_SCREENSHOTS, else a temporary folder); printed at the end."""
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path_factory.mktemp("console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    saved = sorted(folder.glob("*.png"))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if saved and reporter is not None:
        reporter.write_line(f"console screenshots: {', '.join(str(path) for path in saved)}")


def wait_for(driver: Any, condition: Callable[[Any], Any]) -> Any:
    """Poll the page (it redraws every second) until condition holds."""
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(condition)


def cell_text(driver: Any, selector: str) -> str:
    """The text of the first element matching a CSS selector ("" when there is none yet)."""
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return str(found[0].text) if found else ""


def classes(driver: Any, state: str) -> set[str]:
    """The classes of a state's node in the drawing."""
    found = driver.find_elements(By.CSS_SELECTOR, f'g.node[data-state="{state}"]')
    return set((found[0].get_attribute("class") or "").split()) if found else set()


def test_the_console_shows_the_queues_follows_a_message_and_draws_a_saga_path(
    saga_devstack: Devstack, browser: Any, screenshots: Path
) -> None:
    # Given: the console open on a running devstack
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#queues")
    wait_for(browser, lambda d: cell_text(d, 'tr[data-queue="saga-audit"] td.visible') == "0")
    assert {cell_text(browser, f'tr[data-queue="{name}"]').split()[0] for name in ("saga-orders", "saga-orders-dlq")} == {
        "saga-orders",
        "saga-orders-dlq",
    }
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
    wait_for(browser, lambda d: "visited" in classes(d, "Cancelled"))
    assert {"visited", "failed"} <= classes(browser, "Charge")
    assert {"visited", "compensation"} <= classes(browser, "Release")
    assert "visited" not in classes(browser, "Confirm")
    assert "FAILED" in cell_text(browser, 'li[data-execution="o-42"]')
    browser.save_screenshot(str(screenshots / "3-state-machines.png"))

    # When: a correlation id is clicked among the invocations
    saga_devstack.trigger("nightly")
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#invocations")
    wait_for(browser, lambda d: "nightly" in cell_text(d, "#view-invocations table"))
    browser.find_element(By.CSS_SELECTOR, "button.correlation").click()
    # Then: only that order's invocations stay
    wait_for(browser, lambda d: "nightly" not in cell_text(d, "#view-invocations table"))
    functions = [row.text.split()[2] for row in browser.find_elements(By.CSS_SELECTOR, "tr.invocation")]
    assert sorted(functions) == ["charge", "release", "reserve"]
    browser.save_screenshot(str(screenshots / "2-invocations.png"))

    # And: the other views render what the devstack did
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#streams")
    wait_for(browser, lambda d: "rate(1 day)" in cell_text(d, "#view-streams"))
    browser.save_screenshot(str(screenshots / "4-streams-schedules.png"))
    browser.get(f"{saga_devstack.endpoint_url}/_devstack/console/#alarms")
    wait_for(browser, lambda d: "saga-orders-dlq-not-empty" in cell_text(d, "#view-alarms"))
    browser.save_screenshot(str(screenshots / "5-alarms.png"))
