"""Signing in with a real browser: the form, the cookie, where each role lands."""

from __future__ import annotations

from typing import Any

from conftest import LiveService, sign_in


def test_a_reviewer_signs_in_with_the_keyboard_and_lands_on_the_console(
    live_service: LiveService, page: Any, screenshot: Any
) -> None:
    page.goto(f"{live_service.url}/login")
    screenshot(page, "login")
    page.keyboard.press("Tab")  # the skip link comes first, for keyboard users
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Email").fill("reviewer@bank.example")
    page.get_by_label("Password").fill("wrong")
    page.get_by_label("Password").press("Enter")
    assert "wrong email or password" in page.get_by_role("alert").inner_text()
    sign_in(page, live_service.url, "reviewer@bank.example")
    page.wait_for_url("**/console**")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["ethica_session"]["httpOnly"] is True
