"""The playground in a real browser: JupyterLab in headless Chromium, driven by Selenium.

Skipped where Chromium, its driver or Selenium is missing (docs/developing.md
says how to install them). It opens a notebook with the playground, runs it,
moves the epochs slider, presses Train, and waits for the live picture and
the metrics of the finished run.
"""

import json
import shutil
import socket
import subprocess
import sys
import time

import pytest

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="needs selenium (pip install selenium)"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs chromium and chromedriver (apt-get install chromium-driver)",
)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": "from centerloss.apps.playground import Playground, Settings\n"
            "Playground(Settings(epochs=1))",
        }
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """URL of the notebook, served by a JupyterLab of its own."""
    (tmp_path / "playground.ipynb").write_text(json.dumps(NOTEBOOK))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--allow-root",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=browser-test",
            f"--ServerApp.root_dir={tmp_path}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/playground.ipynb?token=browser-test"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    yield driver
    driver.save_screenshot(str(tmp_path / "playground.png"))  # kept by pytest's tmp_path
    driver.quit()


def test_move_a_slider_press_train_and_see_the_live_plot(lab, browser):
    wait = WebDriverWait(browser, 240, poll_frequency=0.5)
    browser.get(lab)
    wait.until(lambda d: "Idle" in d.find_element(By.CSS_SELECTOR, "#jp-main-statusbar").text)
    time.sleep(2)  # JupyterLab redraws the cell once the kernel is ready
    cell = browser.find_element(By.CSS_SELECTOR, ".jp-CodeCell .cm-content")
    cell.click()
    cell.send_keys(Keys.SHIFT, Keys.ENTER)  # run the cell: the app appears

    train = wait.until(
        lambda d: next(
            (b for b in d.find_elements(By.TAG_NAME, "button") if b.text == "Train"), None
        )
    )
    poster = browser.find_element(By.CSS_SELECTOR, ".widget-image").get_attribute("src")
    # The epochs slider: focus its handle and move it one step right, 1 → 2 epochs.
    sliders = browser.find_elements(By.CSS_SELECTOR, ".widget-slider")
    epochs = next(s for s in sliders if "epochs" in s.text)
    handle = epochs.find_element(By.CSS_SELECTOR, ".noUi-handle")
    handle.click()
    handle.send_keys(Keys.ARROW_RIGHT)
    wait.until(lambda d: epochs.find_element(By.CSS_SELECTOR, ".widget-readout").text == "2")

    train.click()
    status = browser.find_element(By.CSS_SELECTOR, ".widget-html-content")
    wait.until(lambda d: "Training" in status.text or "trained in" in status.text)
    wait.until(lambda d: "2 epochs" in status.text and "trained in" in status.text)
    image = browser.find_element(By.CSS_SELECTOR, ".widget-image")
    assert image.get_attribute("src") != poster
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 800
    table = browser.find_elements(By.CSS_SELECTOR, ".widget-html-content table")
    assert table and "softmax + center loss (λ=0.1)" in table[0].text
    assert "2 epochs" in table[0].text
