"""The Go schema extractor, on small inline provider packages (no git mirror needed)."""

from __future__ import annotations

import pytest

from tools.provider_schema import golang
from tools.provider_schema.evaluate import EvalError
from tools.provider_schema.extract import extract
from tools.provider_schema.pins import ProviderPin

SCHEMA_IMPORT = 'import "github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"\n'


class InlineSource:
    """A Go package held in a dict: path -> source text."""

    commit = "0" * 40

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.blobs = {path: f"{i:040x}" for i, path in enumerate(sorted(files), start=1)}

    def file_declaring(self, name: str) -> str | None:
        for path, text in sorted(self.files.items()):
            parsed = golang.parse_file(path, text)
            if name in parsed.funcs or name in parsed.var_values or name in parsed.types:
                return path
        return None

    def read(self, path: str) -> str:
        return self.files[path]


def _pin(sdk_major: int = 2, resources: tuple[str, ...] | None = None) -> ProviderPin:
    return ProviderPin(
        name="demo",
        registry_source="Example/demo",
        version="1.0.0",
        repo="example/terraform-provider-demo",
        tag="v1.0.0",
        package_dir="demo",
        sdk_major=sdk_major,
        resources=resources,
    )


def _provider(resources: str, data_sources: str = "", schema: str = "") -> str:
    return (
        "package demo\n"
        + SCHEMA_IMPORT
        + "func Provider() *schema.Provider {\n"
        + "\tp := &schema.Provider{\n"
        + f"\t\tSchema: map[string]*schema.Schema{{{schema}}},\n"
        + f"\t\tResourcesMap: map[string]*schema.Resource{{{resources}}},\n"
        + f"\t\tDataSourcesMap: map[string]*schema.Resource{{{data_sources}}},\n"
        + "\t}\n"
        + "\tp.ConfigureFunc = configure\n"
        + "\treturn p\n"
        + "}\n"
    )


def _resource(func: str, schema_body: str, extra: str = "") -> str:
    return (
        "package demo\n"
        + SCHEMA_IMPORT
        + f"func {func}() *schema.Resource {{\n"
        + "\treturn &schema.Resource{\n"
        + "\t\tCreate: create,\n"
        + extra
        + "\t\tSchema: map[string]*schema.Schema{\n"
        + schema_body
        + "\t\t},\n"
        + "\t}\n"
        + "}\n"
    )


def _extract(files: dict[str, str], **pin_args: object) -> tuple[dict, dict]:
    pin = _pin(**pin_args)  # type: ignore[arg-type]
    schema_doc, provenance = extract(pin, InlineSource(files))
    return schema_doc["provider_schemas"]["registry.terraform.io/example/demo"], provenance


def _widget(schema_body: str, extra: str = "", **pin_args: object) -> dict:
    files = {
        "demo/provider.go": _provider('"demo_widget": resourceWidget(),'),
        "demo/resource_demo_widget.go": _resource("resourceWidget", schema_body, extra),
    }
    document, _ = _extract(files, **pin_args)
    return document["resource_schemas"]["demo_widget"]


def test_tokenizer_inserts_semicolons_and_decodes_strings() -> None:
    tokens = golang.tokenize('x := "a\\tb" // c\ny := `raw\\n`\n')
    assert [(t.kind, t.value) for t in tokens] == [
        ("ident", "x"),
        ("op", ":="),
        ("string", "a\tb"),
        (";", ";"),
        ("ident", "y"),
        ("op", ":="),
        ("string", "raw\\n"),
        (";", ";"),
        ("eof", ""),
    ]


def test_primitives_flags_and_implicit_id() -> None:
    schema = _widget(
        '\t\t\t"name": {Type: schema.TypeString, Required: true, ForceNew: true},\n'
        '\t\t\t"size": {Type: schema.TypeInt, Optional: true, Computed: true, Default: 3},\n'
        '\t\t\t"ratio": {Type: schema.TypeFloat, Computed: true},\n'
        '\t\t\t"secret": {Type: schema.TypeString, Optional: true, Sensitive: true, Description: "s" + "ecret"},\n'
        '\t\t\t"on": {Type: schema.TypeBool, Optional: true},\n'
    )
    assert schema == {
        "version": 0,
        "block": {
            "description_kind": "plain",
            "attributes": {
                "name": {"type": "string", "description_kind": "plain", "required": True},
                "size": {"type": "number", "description_kind": "plain", "optional": True, "computed": True},
                "ratio": {"type": "number", "description_kind": "plain", "computed": True},
                "secret": {
                    "type": "string",
                    "description_kind": "plain",
                    "description": "secret",
                    "optional": True,
                    "sensitive": True,
                },
                "on": {"type": "bool", "description_kind": "plain", "optional": True},
                "id": {"type": "string", "description_kind": "plain", "optional": True, "computed": True},
            },
        },
    }


def test_nested_resources_become_blocks_unless_computed_only() -> None:
    inner = 'Elem: &schema.Resource{Schema: map[string]*schema.Schema{"a": {Type: schema.TypeString, Required: true}}}'
    block = _widget(
        f'\t\t\t"opt_computed": {{Type: schema.TypeList, Optional: true, Computed: true, MaxItems: 1, {inner}}},\n'
        f'\t\t\t"required_set": {{Type: schema.TypeSet, Required: true, {inner}}},\n'
        f'\t\t\t"optional_min": {{Type: schema.TypeList, Optional: true, MinItems: 2, MaxItems: 5, {inner}}},\n'
        f'\t\t\t"computed_only": {{Type: schema.TypeList, Computed: true, {inner}}},\n'
    )["block"]
    nested = {
        "description_kind": "plain",
        "attributes": {"a": {"type": "string", "description_kind": "plain", "required": True}},
    }
    assert block["block_types"] == {
        "opt_computed": {"nesting_mode": "list", "block": nested, "max_items": 1},
        "required_set": {"nesting_mode": "set", "block": nested, "min_items": 1},
        "optional_min": {"nesting_mode": "list", "block": nested, "max_items": 5},
    }
    assert block["attributes"]["computed_only"] == {
        "type": ["list", ["object", {"a": "string"}]],
        "description_kind": "plain",
        "computed": True,
    }


def test_collection_element_rules() -> None:
    attributes = _widget(
        '\t\t\t"tags": {Type: schema.TypeMap, Optional: true},\n'
        '\t\t\t"weights": {Type: schema.TypeMap, Optional: true, Elem: &schema.Schema{Type: schema.TypeFloat}},\n'
        '\t\t\t"res_map": {Type: schema.TypeMap, Optional: true, '
        'Elem: &schema.Resource{Schema: map[string]*schema.Schema{"x": {Type: schema.TypeInt, Optional: true}}}},\n'
        '\t\t\t"bare_list": {Type: schema.TypeList, Optional: true},\n'
        '\t\t\t"shim_set": {Type: schema.TypeSet, Optional: true, Elem: schema.TypeInt},\n'
        '\t\t\t"as_attr": {Type: schema.TypeList, Optional: true, ConfigMode: schema.SchemaConfigModeAttr, '
        'Elem: &schema.Resource{Schema: map[string]*schema.Schema{"y": {Type: schema.TypeBool, Optional: true}}}},\n'
    )["block"]["attributes"]
    assert attributes["tags"]["type"] == ["map", "string"]
    assert attributes["weights"]["type"] == ["map", "number"]
    assert attributes["res_map"]["type"] == ["map", "string"]
    assert attributes["bare_list"]["type"] == ["list", "string"]
    assert attributes["shim_set"]["type"] == ["set", "number"]
    assert attributes["as_attr"]["type"] == ["list", ["object", {"y": "bool"}]]


def test_timeouts_and_schema_version() -> None:
    schema = _widget(
        '\t\t\t"name": {Type: schema.TypeString, Optional: true},\n',
        extra=(
            "\t\tSchemaVersion: 2,\n"
            "\t\tTimeouts: &schema.ResourceTimeout{\n"
            "\t\t\tCreate: schema.DefaultTimeout(5 * time.Minute),\n"
            "\t\t\tDelete: schema.DefaultTimeout(time.Minute),\n"
            "\t\t},\n"
        ),
    )
    assert schema["version"] == 2
    assert schema["block"]["block_types"]["timeouts"] == {
        "nesting_mode": "single",
        "block": {
            "description_kind": "plain",
            "attributes": {
                "create": {"type": "string", "description_kind": "plain", "optional": True},
                "delete": {"type": "string", "description_kind": "plain", "optional": True},
            },
        },
    }


def test_sdk_v2_reports_deprecated_and_write_only_but_v1_does_not() -> None:
    body = (
        '\t\t\t"old": {Type: schema.TypeString, Optional: true, Deprecated: "use new"},\n'
        '\t\t\t"key": {Type: schema.TypeString, Optional: true, WriteOnly: true, Sensitive: true},\n'
    )
    v2 = _widget(body, sdk_major=2)["block"]["attributes"]
    assert v2["old"].get("deprecated") is True
    assert v2["key"].get("write_only") is True
    v1 = _widget(body, sdk_major=1)["block"]["attributes"]
    assert "deprecated" not in v1["old"]
    assert "write_only" not in v1["key"]


def test_required_with_env_default_func_follows_the_sdk() -> None:
    attributes = _widget(
        '\t\t\t"stays": {Type: schema.TypeString, Required: true, DefaultFunc: schema.EnvDefaultFunc("A", nil)},\n'
        '\t\t\t"relaxed": {Type: schema.TypeString, Required: true, '
        'DefaultFunc: schema.MultiEnvDefaultFunc([]string{"B", "C"}, "")},\n'
    )["block"]["attributes"]
    assert attributes["stays"].get("required") is True
    assert attributes["relaxed"].get("optional") is True
    assert "required" not in attributes["relaxed"]


def test_helpers_in_other_files_are_followed_and_recorded() -> None:
    files = {
        "demo/provider.go": _provider('"demo_widget": resourceWidget(),'),
        "demo/resource_demo_widget.go": _resource(
            "resourceWidget",
            '\t\t\t"tags": tagsSchema(),\n'
            '\t\t\t"items": {Type: schema.TypeList, Optional: true, MaxItems: int(maxItems), '
            "Elem: &schema.Resource{Schema: map[string]*schema.Schema{"
            '"v": {Type: schema.TypeString, Optional: true, Description: descriptions["items"]}}}},\n',
        ),
        "demo/tags.go": (
            "package demo\n"
            + SCHEMA_IMPORT
            + "func tagsSchema() *schema.Schema {\n\treturn &schema.Schema{Type: schema.TypeMap, Optional: true}\n}\n"
        ),
        "demo/limits.go": "package demo\ntype MaxItems int\nconst maxItems = MaxItems(3)\n",
        "demo/descriptions.go": (
            "package demo\nvar descriptions map[string]string\n"
            'func init() {\n\tdescriptions = map[string]string{\n\t\t"items": "The items.",\n\t}\n}\n'
        ),
    }
    document, provenance = _extract(files)
    block = document["resource_schemas"]["demo_widget"]["block"]
    assert block["attributes"]["tags"]["type"] == ["map", "string"]
    assert block["block_types"]["items"]["max_items"] == 3
    assert block["block_types"]["items"]["block"]["attributes"]["v"]["description"] == "The items."
    origin = provenance["resource_schemas"]["demo_widget"]
    assert origin["function"] == "resourceWidget"
    assert [f["path"] for f in origin["files"]] == [
        "demo/descriptions.go",
        "demo/limits.go",
        "demo/provider.go",
        "demo/resource_demo_widget.go",
        "demo/tags.go",
    ]
    assert all(len(f["blob"]) == 40 for f in origin["files"])


def test_provider_block_and_lowercase_address() -> None:
    files = {
        "demo/provider.go": _provider(
            "",
            schema='"api_key": {Type: schema.TypeString, Required: true, Sensitive: true, '
            'DefaultFunc: schema.EnvDefaultFunc("DEMO_KEY", nil)},',
        ),
    }
    document, provenance = _extract(files)
    assert document["provider"] == {
        "version": 0,
        "block": {
            "description_kind": "plain",
            "attributes": {
                "api_key": {"type": "string", "description_kind": "plain", "required": True, "sensitive": True},
            },
        },
    }
    assert provenance["provider"] == "Example/demo"


def test_unknown_resource_name_fails_with_a_suggestion() -> None:
    files = {
        "demo/provider.go": _provider('"demo_widget": resourceWidget(),'),
        "demo/resource_demo_widget.go": _resource("resourceWidget", ""),
    }
    with pytest.raises(EvalError, match=r"demo_widgets.*demo_widget"):
        _extract(files, resources=("demo_widgets",))


def test_unresolvable_structural_field_fails_loudly() -> None:
    with pytest.raises(EvalError, match=r"demo_widget\.n.*Type"):
        _widget('\t\t\t"n": {Type: someType(), Optional: true},\n')
