"""Property tests for the naming and tagging rules every stack relies on."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import NAME_LIMITS, Naming
from constructs_lib._common.tags import IDENTITY_TAG_KEYS, stack_tags
from constructs_lib.config.base import _LABEL_KEY, _LABEL_VALUE
from constructs_lib.config.environment import CLOUDS, EnvironmentConfig
from stacks.catalog import stack_name

TENANT = EnvironmentConfig.model_fields["tenant"].metadata[0].pattern
ENV = EnvironmentConfig.model_fields["env"].metadata[0].pattern
tenants = st.from_regex(TENANT, fullmatch=True)
envs = st.from_regex(ENV, fullmatch=True)
suffixes = st.from_regex(r"^[a-z][a-z0-9-]{0,40}$", fullmatch=True)


@given(tenants, envs, suffixes, st.sampled_from(sorted(NAME_LIMITS)))
def test_names_fit_the_resource_limit_or_fail_naming_tenant_env(tenant, env, suffix, kind):
    naming = Naming(tenant, env)
    try:
        name = naming.name(suffix, kind)
    except PropsError as error:
        assert error.field == "tenant/env"
        assert f"limit of {NAME_LIMITS[kind]}" in error.problem
        assert len(f"{tenant}-{env}-{suffix}") > NAME_LIMITS[kind]
    else:
        assert len(name) <= NAME_LIMITS[kind]
        assert name == f"{tenant}-{env}-{suffix}"


@given(tenants, envs)
def test_longest_tenant_and_env_leave_room_for_the_short_limits(tenant, env):
    """tenant <= 10 and env <= 8 keep the prefix at <= 19 characters: 11 left for a 30-character name."""
    assert len(Naming(tenant, env).prefix) <= 19


@given(
    tenants,
    envs,
    st.tuples(st.sampled_from(CLOUDS), st.sampled_from(["bootstrap", "gateway", "quotas"])),
    st.dictionaries(
        st.from_regex(_LABEL_KEY.pattern, fullmatch=True),
        st.from_regex(_LABEL_VALUE.pattern, fullmatch=True),
        max_size=5,
    ),
)
def test_stack_tags_are_valid_gcp_labels_and_carry_the_identity(tenant, env, cloud_and_kind, extra):
    cloud, kind = cloud_and_kind
    stack = stack_name(cloud, kind, env)  # named as the catalog names them
    extra = {key: value for key, value in extra.items() if key not in IDENTITY_TAG_KEYS}
    tags = stack_tags(tenant=tenant, environment=env, stack=stack, extra=extra)
    assert {key: tags[key] for key in ("tenant", "environment", "litellm-stack")} == {
        "tenant": tenant,
        "environment": env,
        "litellm-stack": stack,
    }
    for key, value in tags.items():
        assert re.fullmatch(_LABEL_KEY, key) and re.fullmatch(_LABEL_VALUE, value), (key, value)
    assert list(tags) == sorted(tags), "tags are emitted in a stable order"
