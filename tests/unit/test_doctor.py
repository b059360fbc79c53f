"""The doctor report: every check with ok/FAIL and the fix, and older plugins' plain strings."""

from __future__ import annotations

from syncd.doctor import as_checks, passed, render, values_check


def test_a_value_writes_use_that_the_picklist_lacks_fails_listing_the_valid_ones() -> None:
    """The failure names the missing value and every valid one, so the fix is obvious."""
    check = values_check("task.status", "Task.Status", {"Bogus"}, ["Not Started", "Completed"])
    assert not check.ok
    assert "'Bogus'" in check.detail and "Not Started, Completed" in check.detail
    assert values_check("task.status", "Task.Status", {"Completed"}, ["Completed"]).ok


def test_the_report_marks_each_check_and_prints_the_fix_under_a_failure() -> None:
    """One line per check; a failed one is followed by its fix; the header counts failures."""
    checks = [
        passed("auth", "logged in"),
        passed("task.external_id", "created it", fixed=True),
        *as_checks(["campaign_id: no such campaign"]),  # a plugin with the older hook
    ]
    lines = render({"sf": checks}).splitlines()
    assert lines[0] == "sf: 3 checks, 1 failed"
    assert lines[1].split()[:2] == ["ok", "auth"]
    assert lines[2].split()[:2] == ["fixed", "task.external_id"]
    assert lines[3].split()[:2] == ["FAIL", "problem"]
    assert lines[4].strip() == "fix: see the message"
