"""Signing in to the pages and reading their forms' CSRF tokens, for the page tests."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from tests.server.conftest import Collector

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Made for these tests only: long and no placeholder, so the password rules accept them.
PASSWORD = "correct-" + "horse-" + "battery-9"


def sign_in_with_token(collector: Collector) -> requests.Response:
    form = {"token": collector.admin_token}
    return collector.http.post(collector.url("/login"), data=form, timeout=10)


def sign_in(collector: Collector, username: str, password: str = PASSWORD) -> requests.Response:
    form = {"username": username, "password": password}
    return collector.http.post(collector.url("/login"), data=form, timeout=10)


def csrf_of(collector: Collector, path: str = "/admin") -> str:
    page = collector.http.get(collector.url(path), timeout=10).text
    found = CSRF.search(page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def admin_api(collector: Collector, method: str, path: str, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {collector.admin_token}"}
    return requests.request(method, collector.url(path), headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def new_account(collector: Collector, username: str, role: str) -> None:
    body = {"username": username, "password": PASSWORD, "role": role}
    response = admin_api(collector, "POST", "/api/v1/accounts", json=body)
    assert response.status_code == 201, response.text


def new_token(collector: Collector, role: str, name: str = "ci") -> str:
    response = admin_api(collector, "POST", "/api/v1/tokens", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token
