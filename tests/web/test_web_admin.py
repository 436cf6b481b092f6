"""An admin in Chromium: finds users in the list (GET /admin/users), creates
an integration account, disables and re-enables it, filters the list by
role and status; reads the audit trail filtered and the security events."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.accounts import PASSWORD, create_user
from tests.web.browser import check_page, login_ui


def test_admin_manages_users_and_reads_the_trails(http, migrated_db, open_page):
    admin = create_user(migrated_db, "admin")
    page = open_page()
    login_ui(page, admin["email"])
    page.get_by_role("heading", name="All users").wait_for()
    expect(page.locator("tbody tr").first).to_be_visible()
    page.get_by_label("Find a user").fill(admin["email"])
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text(admin["email"])
    expect(page.locator("caption")).to_contain_text("1 user shown, by email")
    check_page(page, "admin-users", "admin-users")

    email = f"engine-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill("LLM engine")
    page.get_by_label("Role").select_option("integration")
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_role("button", name="Create the user").click()
    expect(page.get_by_role("status")).to_contain_text(f"Created {email} (integration)")
    # The list shows the new user at once, from GET /admin/users.
    expect(page.get_by_label("Find a user")).to_have_value(email)
    row = page.locator("tbody tr").filter(has_text=email)
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("integration")
    assert http.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200

    row.get_by_role("button", name=f"Disable {email}").click()
    expect(row).to_contain_text("disabled")
    assert http.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401

    # Filters: the disabled accounts (the new one among them), re-enabled from there.
    page.get_by_label("Find a user").fill("")
    page.get_by_label("Status", exact=True).select_option("false")
    page.get_by_role("button", name="Show").click()
    row = page.locator("tbody tr").filter(has_text=email)
    expect(row).to_have_count(1)
    # the new list replaces the old one: wait until no active account is shown
    states = page.locator("tbody tr td:nth-child(5)")
    expect(states.filter(has_not_text="disabled")).to_have_count(0)
    assert set(states.all_inner_texts()) == {"disabled"}
    row.get_by_role("button", name=f"Enable {email}").click()
    expect(row).to_contain_text("active")
    assert http.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    # Integration accounts only.
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_label("Kind of account").select_option("integration")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr").filter(has_text=email)).to_have_count(1)
    # a list that fits on one page offers no more
    expect(page.get_by_role("button", name="More users")).to_be_hidden()
    roles = page.locator("tbody tr td:nth-child(3)")
    expect(roles.filter(has_not_text="integration")).to_have_count(0)
    assert set(roles.all_inner_texts()) == {"integration"}

    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("heading", name="Audit trail").wait_for()
    page.get_by_label("Table").fill("auth.users")
    page.get_by_label("Actor (user id)").fill(admin["id"])
    page.get_by_role("button", name="Show").click()
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("auth.users")
    expect(rows.filter(has_text=email)).to_have_count(1)  # created
    expect(rows.filter(has_text="is_active: false").first).to_contain_text("UPDATE")
    check_page(page, "admin-audit", "admin-audit")

    page.get_by_role("link", name="Security events").click()
    page.get_by_role("heading", name="Security events").wait_for()
    page.get_by_label("Kind").select_option("login_success")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr").filter(has_text=email).first).to_contain_text("login_success")
    check_page(page, "admin-security", "admin-security")
