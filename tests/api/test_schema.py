"""The OpenAPI schema and its documentation: valid, offline, rendered, and kept by the API."""

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.servers import basehttp
from django.test import Client

from accounts.roles import Role
from api.models import ApiClient
from tests.api.conftest import make_client
from tests.conftest import CHROMIUM
from tests.factories import unit
from tests.helpers import PROJECT_DIR
from tests.worlds import two_provinces

ARTIFACTS = PROJECT_DIR / "var" / "test-artifacts"
DOCS = ["/api/docs/", "/api/redoc/"]


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    assert "/api/v1/beneficiaries/" in schema["paths"]
    assert "Problem" in schema["components"]["schemas"]


class _Assets(HTMLParser):
    """The addresses a page loads: ``<script src>`` and ``<link href>``."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"])


def assets_of(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.mark.django_db
def test_the_schema_is_public():
    # It names no person: the docs read it without a key.
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/beneficiaries/" in response.content


@pytest.mark.django_db
def test_an_address_no_route_takes_answers_404_in_the_error_shape_under_api_only():
    response = Client().get("/api/v1/plans/0.5/")  # the router's id pattern has no dot
    assert response.status_code == 404
    assert response.json()["type"] == "not_found"
    assert response["Content-Type"] == "application/json"
    page = Client().get("/nowhere/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("path", DOCS)
def test_the_docs_are_public_and_load_only_our_own_static_files(path, settings):
    response = Client().get(path)
    assert response.status_code == 200
    urls = assets_of(response.content.decode())
    assert urls, "the page names no script or style sheet"
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is on another host"
        if parts.path == path:
            # Swagger UI's start-up script, served by the view itself (no inline script: CSP).
            script = Client().get(url)
            assert script.status_code == 200
            assert "javascript" in script["Content-Type"]
            assert "http://" not in script.content.decode()
            assert "https://" not in script.content.decode()
            continue
        assert parts.path.startswith(static_prefix), f"{url} is not one of our static files"
        assert finders.find(parts.path.removeprefix(static_prefix)), f"{url} is not found"


@pytest.mark.browser
def test_swagger_ui_renders_the_operations_without_leaving_the_server(
    committed_reference_data, live_server
):
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_context(base_url=live_server.url).new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto("/api/docs/")
            page.get_by_text("/api/v1/beneficiaries/", exact=True).first.wait_for()
            assert page.locator(".opblock").count() > 10
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / "swagger-ui.png", full_page=True)
        finally:
            browser.close()
    server = urlsplit(live_server.url).netloc
    assert f"{live_server.url}/api/schema/" in requests
    assert [url for url in requests if urlsplit(url).netloc != server] == []


@pytest.fixture
def lao_cai_key(committed_reference_data):
    two_provinces()
    return make_client(
        "Lào Cai",
        ApiClient.Organisation.PROVINCE_OFFICE,
        Role.PROVINCIAL_STAFF,
        province=unit("2025", "15"),
    )


CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "status_code_conformance",
]


def test_the_api_keeps_its_schema_under_schemathesis(
    lao_cai_key, live_server, settings, monkeypatch, tmp_path
):
    """Schemathesis's generated requests, as a province office: no 5xx, answers as documented.

    It writes at random (recipients, hand-overs, items): the live server uses the test database.
    """
    settings.API_THROTTLE_RATE = "100000/minute"
    # The development server writes headers and body apart: with Nagle's algorithm each answer
    # waits 40 ms for the client's delayed ACK, which made this run five times longer.
    monkeypatch.setattr(basehttp.WSGIRequestHandler, "disable_nagle_algorithm", True)
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Api-Key {lao_cai_key}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        "20",
        # The same requests on every run (this mode uses no seed and no example database).
        "--generation-deterministic",
        "--generation-with-security-parameters",
        "false",
        "--workers",
        "1",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    print(result.stdout, result.stderr)  # shown by pytest -s, and on failure
    assert result.returncode == 0, result.stdout + result.stderr
