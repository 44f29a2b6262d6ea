"""The raw SQL statements LiteLLM 1.106.12's key, team and auth paths send, answered from the in-memory tables.

Each handler names the statement it serves (LiteLLM file and line) and computes its answer from the rows, the way
PostgreSQL would for that one statement. A statement not listed raises `UnsupportedQuery` (prisma_standin.py).
"""

from __future__ import annotations

import copy
from typing import Any

from tools.litellm_live.prisma_standin import InMemoryPrisma, RawHandler, RawStatement


def _rows(db: InMemoryPrisma, model: str) -> list[dict[str, Any]]:
    return db.table_of(model).rows


def _one(db: InMemoryPrisma, model: str, column: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return next((row for row in _rows(db, model) if row.get(column) == value), None)


def combined_view(db: InMemoryPrisma, args: tuple) -> dict[str, Any] | None:
    """litellm/proxy/utils.py:5597-5643 (`get_data(table_name="combined_view")`): a key joined with its team,
    team membership, budgets, project and organization, `WHERE v.token = $1`."""
    (token,) = args
    key = _one(db, "LiteLLM_VerificationToken", "token", token)
    if key is None:
        return None
    team = _one(db, "LiteLLM_TeamTable", "team_id", key.get("team_id")) or {}
    membership = next(
        (
            row
            for row in _rows(db, "LiteLLM_TeamMembership")
            if row.get("team_id") == key.get("team_id") and row.get("user_id") == key.get("user_id")
        ),
        {},
    )
    member_budget = _one(db, "LiteLLM_BudgetTable", "budget_id", membership.get("budget_id")) or {}
    model_table = _one(db, "LiteLLM_ModelTable", "id", team.get("model_id")) or {}
    budget = _one(db, "LiteLLM_BudgetTable", "budget_id", key.get("budget_id")) or {}
    project = _one(db, "LiteLLM_ProjectTable", "project_id", key.get("project_id")) or {}
    organization = _one(db, "LiteLLM_OrganizationTable", "organization_id", key.get("organization_id")) or {}
    org_budget = _one(db, "LiteLLM_BudgetTable", "budget_id", organization.get("budget_id")) or {}
    return copy.deepcopy(
        {
            **key,
            "team_spend": team.get("spend"),
            "team_max_budget": team.get("max_budget"),
            "team_soft_budget": team.get("soft_budget"),
            "team_model_max_budget": team.get("model_max_budget"),
            "team_tpm_limit": team.get("tpm_limit"),
            "team_rpm_limit": team.get("rpm_limit"),
            "team_tpd_limit": team.get("tpd_limit"),
            "team_models": team.get("models"),
            "team_metadata": team.get("metadata"),
            "team_blocked": team.get("blocked"),
            "team_alias": team.get("team_alias"),
            "team_members_with_roles": team.get("members_with_roles"),
            "team_object_permission_id": team.get("object_permission_id"),
            "org_id": team.get("organization_id"),
            "project_alias": project.get("project_alias"),
            "team_member_spend": membership.get("spend"),
            "team_member_tpm_limit": member_budget.get("tpm_limit"),
            "team_member_rpm_limit": member_budget.get("rpm_limit"),
            "team_model_aliases": model_table.get("aliases"),
            "litellm_budget_table_max_budget": budget.get("max_budget"),
            "litellm_budget_table_tpm_limit": budget.get("tpm_limit"),
            "litellm_budget_table_rpm_limit": budget.get("rpm_limit"),
            "litellm_budget_table_tpd_limit": budget.get("tpd_limit"),
            "litellm_budget_table_model_max_budget": budget.get("model_max_budget"),
            "litellm_budget_table_soft_budget": budget.get("soft_budget"),
            "organization_metadata": organization.get("metadata"),
            "organization_alias": organization.get("organization_alias"),
            "organization_max_budget": org_budget.get("max_budget"),
            "organization_tpm_limit": org_budget.get("tpm_limit"),
            "organization_rpm_limit": org_budget.get("rpm_limit"),
        }
    )


def _is_combined_view(sql: str) -> bool:
    return 'FROM "LiteLLM_VerificationToken" AS v LEFT JOIN "LiteLLM_TeamTable" AS t' in sql and sql.endswith(
        "WHERE v.token = $1"
    )


def _with_budget(db: InMemoryPrisma, row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {**row, "litellm_budget_table": _one(db, "LiteLLM_BudgetTable", "budget_id", row.get("budget_id"))}


def _with_permission(db: InMemoryPrisma, row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    permission = _one(db, "LiteLLM_ObjectPermissionTable", "object_permission_id", row.get("object_permission_id"))
    return {**row, "object_permission": permission}


def auth_objects(db: InMemoryPrisma, args: tuple) -> dict[str, Any]:
    """litellm/proxy/auth/auth_object_prefetch.py:97-140 (`_SQL`): the user, team (+ model table, permission),
    membership (+ budget), organization and project rows of one request, each `to_jsonb` of the row or NULL."""
    user_id, team_id, member_user_id, organization_id, project_id = args
    user = _one(db, "LiteLLM_UserTable", "user_id", user_id)
    if user is not None:
        user = {
            **user,
            "organization_memberships": [
                row for row in _rows(db, "LiteLLM_OrganizationMembership") if row.get("user_id") == user_id
            ],
        }
    team = _one(db, "LiteLLM_TeamTable", "team_id", team_id)
    if team is not None:
        model = _one(db, "LiteLLM_ModelTable", "id", team.get("model_id"))
        if model is not None:
            model = {**{k: v for k, v in model.items() if k != "aliases"}, "model_aliases": model.get("aliases")}
        team = _with_permission(db, {**team, "litellm_model_table": model})
    membership = next(
        (
            row
            for row in _rows(db, "LiteLLM_TeamMembership")
            if member_user_id is not None and row.get("user_id") == member_user_id and row.get("team_id") == team_id
        ),
        None,
    )
    organization = _one(db, "LiteLLM_OrganizationTable", "organization_id", organization_id)
    project = _one(db, "LiteLLM_ProjectTable", "project_id", project_id)
    return copy.deepcopy(
        {
            "user_row": user,
            "team_row": team,
            "membership_row": _with_budget(db, membership),
            "organization_row": _with_permission(db, _with_budget(db, organization)),
            "project_row": _with_permission(db, _with_budget(db, project)),
        }
    )


def advisory_lock(db: InMemoryPrisma, args: tuple) -> list[dict[str, Any]]:
    """litellm/proxy/management_helpers/access_group_team_sync.py:35 and db/db_spend_update_writer.py:406
    (`pg_advisory_xact_lock`): the stand-in's transactions are already serialized by one lock."""
    return [{"locked": False}]


def strip_deleted_team_from_users(db: InMemoryPrisma, args: tuple) -> int:
    """litellm/proxy/management_endpoints/team_endpoints.py:402: `teams = array_remove(teams, $1)`."""
    (team_id,) = args
    changed = 0
    for user in _rows(db, "LiteLLM_UserTable"):
        if team_id in (user.get("teams") or []):
            user["teams"] = [team for team in user["teams"] if team != team_id]
            changed += 1
    return changed


def team_access_groups(db: InMemoryPrisma, args: tuple) -> list[dict[str, Any]]:
    """litellm/proxy/management_helpers/access_group_team_sync.py:37 (`_READ_TEAM_SQL`)."""
    (team_id,) = args
    team = _one(db, "LiteLLM_TeamTable", "team_id", team_id)
    return [] if team is None else [{"access_group_ids": list(team.get("access_group_ids") or [])}]


def _access_groups_of(db: InMemoryPrisma, team_id: str, desired: list[str]) -> list[dict[str, Any]]:
    return [
        row
        for row in _rows(db, "LiteLLM_AccessGroupTable")
        if row.get("access_group_id") in desired or team_id in (row.get("assigned_team_ids") or [])
    ]


def affected_access_groups(db: InMemoryPrisma, args: tuple) -> list[dict[str, Any]]:
    """access_group_team_sync.py:42 (`_AFFECTED_SQL`): groups named in $2 or listing team $1."""
    team_id, desired = args
    return [{"access_group_id": row["access_group_id"]} for row in _access_groups_of(db, team_id, list(desired))]


def attach_access_groups(db: InMemoryPrisma, args: tuple) -> list[dict[str, Any]]:
    """access_group_team_sync.py:48 (`_ATTACH_SQL`): append team $1 to the groups in $2 that lack it."""
    team_id, desired = args
    changed = []
    for row in _rows(db, "LiteLLM_AccessGroupTable"):
        if row.get("access_group_id") in desired and team_id not in (row.get("assigned_team_ids") or []):
            row["assigned_team_ids"] = [*(row.get("assigned_team_ids") or []), team_id]
            changed.append({"access_group_id": row["access_group_id"]})
    return changed


def detach_access_groups(db: InMemoryPrisma, args: tuple) -> list[dict[str, Any]]:
    """access_group_team_sync.py:56 (`_DETACH_SQL`): remove team $1 from the groups not in $2."""
    team_id, desired = args
    changed = []
    for row in _rows(db, "LiteLLM_AccessGroupTable"):
        if team_id in (row.get("assigned_team_ids") or []) and row.get("access_group_id") not in desired:
            row["assigned_team_ids"] = [team for team in row["assigned_team_ids"] if team != team_id]
            changed.append({"access_group_id": row["access_group_id"]})
    return changed


def team_members_with_roles(db: InMemoryPrisma, args: tuple) -> list[dict[str, Any]]:
    """litellm/repositories/team_repository.py:139 (`get_members_with_roles_locked`)."""
    (team_id,) = args
    team = _one(db, "LiteLLM_TeamTable", "team_id", team_id)
    return [] if team is None else [{"members_with_roles": copy.deepcopy(team.get("members_with_roles"))}]


def raw_handlers() -> list[tuple[RawStatement, RawHandler]]:
    from litellm.proxy.auth import auth_object_prefetch
    from litellm.proxy.management_endpoints import team_endpoints
    from litellm.proxy.management_helpers import access_group_team_sync

    return [
        (_is_combined_view, combined_view),
        (auth_object_prefetch._SQL, auth_objects),
        (access_group_team_sync.TEAM_ADVISORY_LOCK_SQL, advisory_lock),
        (access_group_team_sync._READ_TEAM_SQL, team_access_groups),
        (access_group_team_sync._AFFECTED_SQL, affected_access_groups),
        (access_group_team_sync._ATTACH_SQL, attach_access_groups),
        (access_group_team_sync._DETACH_SQL, detach_access_groups),
        ('SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = $1', team_members_with_roles),
        (team_endpoints._STRIP_DELETED_TEAM_FROM_USERS_SQL, strip_deleted_team_from_users),
    ]
