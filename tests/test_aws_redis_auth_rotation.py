"""A Redis AUTH rotation on AWS ends with the old token invalid.

The rules: ModifyReplicationGroup's AuthTokenUpdateStrategy (botocore data/elasticache/2015-02-02/service-2.json,
AuthTokenUpdateStrategyType SET | ROTATE | DELETE; "ROTATE - default", "SET - allowed only after ROTATE") with the
semantics of https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html ("Modifying the AUTH token": ROTATE
adds the new token while the old one stays valid; SET makes the given token the only one). The AWS provider sends
the token with the strategy whenever either changed (hashicorp/terraform-provider-aws
internal/service/elasticache/replication_group.go, resourceReplicationGroupUpdate: `d.HasChanges("auth_token",
"auth_token_update_strategy")` -> ModifyReplicationGroup{AuthToken, AuthTokenUpdateStrategy}). `ElastiCacheAuth`
applies exactly these rules to the arguments each step's stack gives the replication group.
"""

from __future__ import annotations

from tests.test_aws_gateway import resources
from tests.test_aws_stack_options import _load, _synth


class ElastiCacheAuth:
    """The tokens a replication group accepts, changed as the provider's update would change them."""

    def __init__(self, token: str) -> None:
        self.valid, self.last_strategy, self.state = {token}, None, {"auth_token": token, "strategy": None}

    def apply(self, token: str, strategy: str) -> None:
        if (token, strategy) == (self.state["auth_token"], self.state["strategy"]):
            return  # no change: no ModifyReplicationGroup
        if strategy == "SET" and self.last_strategy != "ROTATE" and token != self.state["auth_token"]:
            raise AssertionError("InvalidParameterValue: SET is allowed only after ROTATE")
        self.valid = self.valid | {token} if strategy == "ROTATE" else {token}
        self.last_strategy, self.state = strategy, {"auth_token": token, "strategy": strategy}


def _step(tmp_path, name: str, **secrets) -> tuple[str, str]:
    """(token, strategy) the stack gives the group; the token stands for its random_password's keepers version."""
    path = tmp_path / name
    path.mkdir()
    stack = _synth(_load(path, {"secrets": secrets}))
    (group,) = resources(stack, "aws_elasticache_replication_group").values()
    (password,) = resources(stack, "random_password").values()
    return f"token-v{password['keepers']['version']}", group["auth_token_update_strategy"]


def test_the_two_step_rotation_ends_with_only_the_new_token_valid(tmp_path):
    steady = _step(tmp_path, "steady")
    group = ElastiCacheAuth(steady[0])
    group.apply(*steady)
    rotating = _step(tmp_path, "rotating", redis_auth_version=2, redis_auth_rotation="rotating")
    group.apply(*rotating)
    assert group.valid == {"token-v1", "token-v2"}  # the services roll onto v2 while v1 still works
    done = _step(tmp_path, "done", redis_auth_version=2)
    group.apply(*done)
    assert group.valid == {"token-v2"}, f"the old token is still accepted: {sorted(group.valid)}"


def test_the_steady_state_is_set_and_rotating_is_rotate(tmp_path):
    assert _step(tmp_path, "a")[1] == "SET"
    assert _step(tmp_path, "b", redis_auth_rotation="rotating")[1] == "ROTATE"
