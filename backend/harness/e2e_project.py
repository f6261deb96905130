"""The upstream e2e fixture project (`e2e-test-project`), rebuilt from SPEC-2 §14.5 and §15.4.

Ten documents; titles, statuses, owners and references are the ones the reference answers
show. Every body is well over 50 characters, and TS0001's text mentions US0001 without naming
it as its story.
"""

US0001_BODY = (
    "## User Story\n\n**As a** platform user\n**I want** to create a widget\n"
    "**So that** I can use it later\n\n## Acceptance Criteria\n\n"
    "- Creating a widget with a name returns 201 Created\n"
    "- Creating a widget whose name exists returns 409 Conflict\n"
)

PRD_AFTER_TITLE = (
    "**Project:** Widget Platform\n**Version:** 1.0.0\n**Status:** Approved\n\n"
    "## Overview\n\nWidget Platform lets teams create, update and share widgets.\n"
)


def _doc(title: str, front_matter: dict[str, str], body: str) -> str:
    lines = "".join(f"> **{key}:** {value}\n" for key, value in front_matter.items())
    return f"# {title}\n\n{lines}\n{body}"


def _story(title: str, status: str, epic: str, body: str | None = None) -> str:
    return _doc(
        title,
        {
            "Status": status,
            "Epic": epic,
            "Owner": "Widget Team",
            "Priority": "P1",
            "Story Points": "3",
        },
        body or f"## User Story\n\nThe work of {title}, described at some length for readers.\n",
    )


E2E_FILES: dict[str, str] = {
    "prd.md": f"# Product Requirements Document\n\n{PRD_AFTER_TITLE}",
    "trd.md": (
        "# Technical Requirements Document\n\n**Project:** Widget Platform\n"
        "**Status:** Approved\n\n## Architecture\n\nA REST API in front of a widget store.\n"
    ),
    "epics/EP0001-alpha-feature.md": _doc(
        "EP0001: Alpha Feature",
        {"Status": "Done", "Owner": "Widget Team"},
        "## Summary\n\nCreate and update widgets: the first feature of the platform.\n",
    ),
    "epics/EP0002-beta-feature.md": _doc(
        "EP0002: Beta Feature",
        {"Status": "In Progress", "Owner": "Widget Team"},
        "## Summary\n\nA public widget API and its tests: the second feature of the platform.\n",
    ),
    "stories/US0001-create-widget.md": _story(
        "US0001: Create Widget",
        "Done",
        "[EP0001: Alpha Feature](../epics/EP0001-alpha-feature.md)",
        US0001_BODY,
    ),
    "stories/US0002-update-widget.md": _story(
        "US0002: Update Widget", "Done", "[EP0001: Alpha Feature](../epics/EP0001-alpha-feature.md)"
    ),
    "stories/US0003-widget-api.md": _story(
        "US0003: Widget API", "Draft", "[EP0002: Beta Feature](../epics/EP0002-beta-feature.md)"
    ),
    "stories/US0004-widget-tests.md": _story(
        "US0004: Widget Tests", "Draft", "[EP0002: Beta Feature](../epics/EP0002-beta-feature.md)"
    ),
    "plans/PL0001-create-widget-plan.md": _doc(
        "PL0001: Create Widget - Implementation Plan",
        {
            "Status": "Complete",
            "Story": "[US0001: Create Widget](../stories/US0001-create-widget.md)",
            "Epic": "[EP0001: Alpha Feature](../epics/EP0001-alpha-feature.md)",
        },
        "## Steps\n\n1. Add the POST /widgets route.\n2. Return 409 when the name exists.\n",
    ),
    "test-specs/TS0001-create-widget-tests.md": _doc(
        "TS0001: Create Widget Tests",
        {"Status": "Draft", "Epic": "[EP0001: Alpha Feature](../epics/EP0001-alpha-feature.md)"},
        "## Test Cases\n\nTC1 covers US0001: creating a widget returns 201, a clash 409.\n",
    ),
}
