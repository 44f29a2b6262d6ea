"""The provider RPCs of plugin protocol 6, served in one of two ways.

- **Reattach** (`serve_reattach`, what `make plan-offline` uses): one long-lived process per provider
  listens on a Unix socket and prints the `TF_REATTACH_PROVIDERS` entry for it; every Terraform run
  given that variable connects to it instead of starting a plugin process. It keeps serving across
  runs (a reattached provider is never shut down by Terraform, and a `Shutdown` call is ignored) and
  exits when its standard input closes, i.e. when the process that started it is gone.
- **Plugin** (`serve`, for a CLI-config `dev_overrides` entry): Terraform starts the plugin with
  TF_PLUGIN_MAGIC_COOKIE and, for AutoMTLS, its client certificate in PLUGIN_CLIENT_CERT; the plugin
  answers with one line on stdout, `1|6|tcp|<addr>|grpc|<server cert, base64 DER>`, serves gRPC over
  TLS, and exits when Terraform shuts it down.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tools.standin_provider import behaviours, computed, protos, schema, values
from tools.standin_provider.session import Session, session_from_env

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PROTOCOL_VERSION = 6
INJECTED_FAILURE = "stand-in provider: injected failure"
_MAX_MESSAGE = 256 << 20


def _server_certificate() -> tuple[bytes, bytes, bytes]:
    """A fresh self-signed certificate for this process: (key PEM, cert PEM, cert DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER)


class StandinProvider:
    """The provider RPCs: Terraform validates and plans from the schema; applies, reads and destroys go through
    the per-resource behaviours (tools/standin_provider/behaviours), generic unless a resource has its own."""

    def __init__(self, pb: Any, schema_bytes: bytes, session: Session | None = None) -> None:
        self.pb = pb
        self.schema_bytes = schema_bytes
        self.session = session or session_from_env()
        self.provider_config: dict[str, Any] = {}
        self._schema: Any = None
        self._lock = threading.Lock()
        behaviours.load_all()

    def _schemas(self) -> Any:
        with self._lock:
            if self._schema is None:
                self._schema = self.pb.GetProviderSchema.Response.FromString(self.schema_bytes)
            return self._schema

    def _error(self, summary: str, detail: str = "") -> Any:
        return self.pb.Diagnostic(severity=self.pb.Diagnostic.ERROR, summary=summary, detail=detail)

    def _block(self, kind: str, type_name: str) -> Any:
        schemas = getattr(self._schemas(), kind)
        return schemas[type_name].block if type_name in schemas else None

    def _unknown_type(self, kind: str, type_name: str) -> Any:
        return self._error(f"stand-in provider: no {kind} schema for {type_name!r}")

    def _dynamic(self, value: Any) -> Any:
        return self.pb.DynamicValue(msgpack=values.encode(value))

    # --- schema and configuration -------------------------------------------------------------

    def GetMetadata(self, request: Any) -> Any:
        schemas = self._schemas()
        meta = self.pb.GetMetadata
        return meta.Response(
            server_capabilities=schemas.server_capabilities,
            resources=[meta.ResourceMetadata(type_name=name) for name in schemas.resource_schemas],
            data_sources=[meta.DataSourceMetadata(type_name=name) for name in schemas.data_source_schemas],
            ephemeral_resources=[
                meta.EphemeralResourceMetadata(type_name=name) for name in schemas.ephemeral_resource_schemas
            ],
        )

    def ValidateProviderConfig(self, request: Any) -> Any:
        return self.pb.ValidateProviderConfig.Response()

    def ValidateResourceConfig(self, request: Any) -> Any:
        return self.pb.ValidateResourceConfig.Response()

    def ValidateDataResourceConfig(self, request: Any) -> Any:
        return self.pb.ValidateDataResourceConfig.Response()

    def ValidateEphemeralResourceConfig(self, request: Any) -> Any:
        return self.pb.ValidateEphemeralResourceConfig.Response()

    def ConfigureProvider(self, request: Any) -> Any:
        # every Terraform run configures the (shared, reattached) provider again with its stack's provider block
        config = values.decode(request.config.msgpack) if request.config.msgpack else None
        self.provider_config = config if isinstance(config, dict) else {}
        return self.pb.ConfigureProvider.Response()

    def GetFunctions(self, request: Any) -> Any:
        return self.pb.GetFunctions.Response()

    def StopProvider(self, request: Any) -> Any:
        return self.pb.StopProvider.Response()

    # --- managed resources ------------------------------------------------------------------------

    def UpgradeResourceState(self, request: Any) -> Any:
        # the state is already in the schema's shape: hand it back as JSON, which Terraform decodes
        return self.pb.UpgradeResourceState.Response(upgraded_state=self.pb.DynamicValue(json=request.raw_state.json))

    def _context(self, type_name: str, block: Any, planned: Any = None) -> behaviours.Context:
        located = self.session.locate(type_name, planned) if isinstance(planned, dict) else None
        return behaviours.Context(
            type_name=type_name,
            provider_config=self.provider_config,
            offline_dir=self.session.offline_dir,
            block=block,
            stack=located.stack if located else None,
            address=located.address if located else None,
            conventions=computed.provider_conventions(type_name, self.provider_config),
        )

    def _diagnostic(self, error: behaviours.BehaviourError) -> Any:
        return self._error(error.summary, error.detail)

    def ReadResource(self, request: Any) -> Any:
        block = self._block("resource_schemas", request.type_name)
        state = values.decode(request.current_state.msgpack)
        if block is None or not isinstance(state, dict):
            return self.pb.ReadResource.Response(new_state=request.current_state, private=request.private)
        try:
            new_state = behaviours.behaviour_for(request.type_name).read(self._context(request.type_name, block), state)
        except behaviours.BehaviourError as error:
            return self.pb.ReadResource.Response(diagnostics=[self._diagnostic(error)])
        return self.pb.ReadResource.Response(new_state=self._dynamic(new_state), private=request.private)

    def PlanResourceChange(self, request: Any) -> Any:
        block = self._block("resource_schemas", request.type_name)
        if block is None:
            return self.pb.PlanResourceChange.Response(diagnostics=[self._unknown_type("resource", request.type_name)])
        proposed = values.decode(request.proposed_new_state.msgpack)
        prior = values.decode(request.prior_state.msgpack)
        planned = values.plan_object(block, proposed, prior is None)
        behaviour = behaviours.behaviour_for(request.type_name)
        replace = []
        if isinstance(planned, dict):
            config = values.decode(request.config.msgpack) or {}
            for name, default in behaviour.defaults.items():
                if config.get(name) is None and planned.get(name) is None:
                    planned[name] = default
            try:
                planned = behaviour.plan(self._context(request.type_name, block), prior, planned)
            except behaviours.BehaviourError as error:
                return self.pb.PlanResourceChange.Response(diagnostics=[self._diagnostic(error)])
        if isinstance(prior, dict) and isinstance(planned, dict):
            for name in behaviour.requires_replace:
                if planned.get(name) != prior.get(name):
                    replace.append(self.pb.AttributePath(steps=[self.pb.AttributePath.Step(attribute_name=name)]))
        return self.pb.PlanResourceChange.Response(
            planned_state=self._dynamic(planned),
            requires_replace=replace,
            planned_private=request.prior_private,
            legacy_type_system=bool(behaviour.defaults),
        )

    def ApplyResourceChange(self, request: Any) -> Any:
        block = self._block("resource_schemas", request.type_name)
        if block is None:
            return self.pb.ApplyResourceChange.Response(diagnostics=[self._unknown_type("resource", request.type_name)])
        prior = values.decode(request.prior_state.msgpack)
        planned = values.decode(request.planned_state.msgpack)
        config = values.decode(request.config.msgpack) or {}
        ctx = self._context(request.type_name, block, planned)
        behaviour = behaviours.behaviour_for(request.type_name)
        try:
            if planned is None:
                behaviour.delete(ctx, prior)
                return self.pb.ApplyResourceChange.Response(new_state=self._dynamic(None))
            if self.session.take_failure(ctx.stack, ctx.address):
                raise behaviours.BehaviourError(
                    INJECTED_FAILURE, f"{ctx.address} ({request.type_name}): failing once, as the test asked"
                )
            if prior is None:
                new_state = behaviour.create(ctx, planned, config)
            else:
                new_state = behaviour.update(ctx, prior, planned, config)
        except behaviours.BehaviourError as error:
            return self.pb.ApplyResourceChange.Response(diagnostics=[self._diagnostic(error)])
        # write-only values never reach the state, whatever a behaviour returned
        new_state = computed.fill_unknowns(block, new_state, request.type_name, ctx.seed(planned), ctx.conventions)
        return self.pb.ApplyResourceChange.Response(
            new_state=self._dynamic(new_state),
            private=request.planned_private,
            legacy_type_system=bool(behaviour.defaults),
        )

    def ImportResourceState(self, request: Any) -> Any:
        # generic: the imported object is its id; the following ReadResource (a behaviour's) fills in the rest
        block = self._block("resource_schemas", request.type_name)
        if block is None:
            return self.pb.ImportResourceState.Response(diagnostics=[self._unknown_type("resource", request.type_name)])
        state = {**values.null_object(block), "id": request.id}
        imported = self.pb.ImportResourceState.ImportedResource(type_name=request.type_name, state=self._dynamic(state))
        return self.pb.ImportResourceState.Response(imported_resources=[imported])

    # --- data sources and ephemeral resources -----------------------------------------------------

    def ReadDataSource(self, request: Any) -> Any:
        block = self._block("data_source_schemas", request.type_name)
        if block is None:
            return self.pb.ReadDataSource.Response(diagnostics=[self._unknown_type("data source", request.type_name)])
        state = values.fill_object(block, values.decode(request.config.msgpack), fill_optional=True)
        return self.pb.ReadDataSource.Response(state=self._dynamic(state))

    def OpenEphemeralResource(self, request: Any) -> Any:
        block = self._block("ephemeral_resource_schemas", request.type_name)
        if block is None:
            return self.pb.OpenEphemeralResource.Response(
                diagnostics=[self._unknown_type("ephemeral resource", request.type_name)]
            )
        config = values.decode(request.config.msgpack)
        opener = behaviours.EPHEMERALS.get(request.type_name)
        if opener is None:
            result = values.fill_object(block, config, fill_optional=False)
        else:
            try:
                result = opener(self._context(request.type_name, block), config)
            except behaviours.BehaviourError as error:
                return self.pb.OpenEphemeralResource.Response(diagnostics=[self._diagnostic(error)])
        return self.pb.OpenEphemeralResource.Response(result=self._dynamic(result))

    def RenewEphemeralResource(self, request: Any) -> Any:
        return self.pb.RenewEphemeralResource.Response()

    def CloseEphemeralResource(self, request: Any) -> Any:
        return self.pb.CloseEphemeralResource.Response()


_PROVIDER_METHODS = (
    "GetMetadata",
    "GetProviderSchema",
    "ValidateProviderConfig",
    "ValidateResourceConfig",
    "ValidateDataResourceConfig",
    "ValidateEphemeralResourceConfig",
    "UpgradeResourceState",
    "ConfigureProvider",
    "ReadResource",
    "PlanResourceChange",
    "ApplyResourceChange",
    "ImportResourceState",
    "ReadDataSource",
    "OpenEphemeralResource",
    "RenewEphemeralResource",
    "CloseEphemeralResource",
    "GetFunctions",
    "StopProvider",
)


def _handlers(pb: Any, plugin_pb: Any, provider: StandinProvider, stop: Callable[[], None]) -> list[Any]:
    def unary(message: Any, fn: Callable[[Any], Any], serialize: Callable[[Any], bytes] | None = None) -> Any:
        return grpc.unary_unary_rpc_method_handler(
            lambda request, _context: fn(request),
            request_deserializer=message.Request.FromString,
            response_serializer=serialize or (lambda response: response.SerializeToString()),
        )

    methods = {}
    for name in _PROVIDER_METHODS:
        if name == "GetProviderSchema":
            # the cached bytes are the serialized response: send them as they are
            methods[name] = unary(pb.GetProviderSchema, lambda _request: provider.schema_bytes, bytes)
        else:
            methods[name] = unary(getattr(pb, name), getattr(provider, name))

    def shutdown(_request: Any, _context: Any) -> Any:
        threading.Thread(target=stop, daemon=True).start()
        return plugin_pb.Empty()

    def health(_request: Any, _context: Any) -> Any:
        return plugin_pb.HealthCheckResponse(status=plugin_pb.HealthCheckResponse.SERVING)

    return [
        grpc.method_handlers_generic_handler("tfplugin6.Provider", methods),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCController",
            {
                "Shutdown": grpc.unary_unary_rpc_method_handler(
                    shutdown, plugin_pb.Empty.FromString, plugin_pb.Empty.SerializeToString
                )
            },
        ),
        grpc.method_handlers_generic_handler(
            "grpc.health.v1.Health",
            {
                "Check": grpc.unary_unary_rpc_method_handler(
                    health, plugin_pb.HealthCheckRequest.FromString, plugin_pb.HealthCheckResponse.SerializeToString
                )
            },
        ),
    ]


def _server(
    schema_file: Path,
    address: str,
    cache_dir: Path,
    on_shutdown: Callable[[], None],
    served: dict[str, list[str]] | None = None,
) -> grpc.Server:
    pb, plugin_pb = protos.load(cache_dir)
    provider = StandinProvider(pb, schema.cached_response_bytes(schema_file, address, cache_dir, served))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.max_send_message_length", _MAX_MESSAGE), ("grpc.max_receive_message_length", _MAX_MESSAGE)],
    )
    server.add_generic_rpc_handlers(_handlers(pb, plugin_pb, provider, on_shutdown))
    return server


def reattach_entry(address: str, socket_path: Path, pid: int) -> dict[str, Any]:
    """One provider's entry of TF_REATTACH_PROVIDERS (go-plugin's ReattachConfig, as Terraform reads it).

    `Test` tells Terraform it does not own the process: it neither kills it nor shuts it down after a run.
    """
    return {
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": True,
            "Addr": {"Network": "unix", "String": str(socket_path)},
        }
    }


def serve_reattach(
    schema_file: Path, address: str, cache_dir: Path, socket_path: Path, served: dict[str, list[str]] | None = None
) -> int:
    """Serve one provider on a Unix socket for any number of Terraform runs, until standard input closes.

    Prints its TF_REATTACH_PROVIDERS entry as one JSON line once it accepts connections. Plain gRPC:
    Terraform dials a reattached provider without TLS, and the socket lives in a directory only its
    owner can enter. `served`: the types of the schema it serves (schema.served_entry; None: all).
    """
    server = _server(schema_file, address, cache_dir, on_shutdown=lambda: None, served=served)
    try:
        bound = server.add_insecure_port(f"unix:{socket_path}")
    except RuntimeError:
        bound = 0
    if not bound:
        print(f"stand-in provider: cannot listen on {socket_path}", file=sys.stderr)
        return 1
    server.start()
    print(json.dumps(reattach_entry(address, socket_path, os.getpid())), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or exited
    server.stop(grace=0.5).wait()
    return 0


def serve(schema_file: Path, address: str, cache_dir: Path) -> int:
    """Run the stand-in for one provider as a plugin Terraform starts, until Terraform shuts it down."""
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        print(
            "This is a Terraform plugin (the stand-in provider of tools/plan_offline.py); "
            "Terraform starts it, it is not meant to be run directly.",
            file=sys.stderr,
        )
        return 1
    offered = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(PROTOCOL_VERSION)).split(",")
    if str(PROTOCOL_VERSION) not in offered:
        print(
            f"stand-in provider speaks plugin protocol {PROTOCOL_VERSION}, Terraform offered {offered}", file=sys.stderr
        )
        return 1
    done = threading.Event()

    def stop() -> None:
        server.stop(grace=0.1).wait()
        done.set()

    server = _server(schema_file, address, cache_dir, on_shutdown=stop)
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT", "").encode()
    cert_field = ""
    if client_cert:
        key_pem, cert_pem, cert_der = _server_certificate()
        # Terraform's client certificate is ECDSA P-521, whose signatures gRPC's TLS stack does not
        # offer to verify (the client then sends no certificate): TLS authenticates the server only
        credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
        port = server.add_secure_port("127.0.0.1:0", credentials)
        cert_field = base64.b64encode(cert_der).decode().rstrip("=")
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"1|{PROTOCOL_VERSION}|tcp|127.0.0.1:{port}|grpc|{cert_field}", flush=True)
    done.wait()
    return 0
