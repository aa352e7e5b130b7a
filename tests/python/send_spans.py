"""Sends a known set of spans to an OTLP receiver with the Python SDK.

An independent client for the book's Rust receiver (crates/otlp-receiver):
the same two spans (a server span and its client child) go once over
OTLP/HTTP with protobuf and once over OTLP/gRPC.

    python send_spans.py --http http://127.0.0.1:4318 --grpc http://127.0.0.1:4317
"""

import argparse
import sys

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind


def send(exporter, transport):
    provider = TracerProvider(
        resource=Resource.create({"service.name": "python-client"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("send_spans")
    with tracer.start_as_current_span(
        "py-parent",
        kind=SpanKind.SERVER,
        attributes={"client": "python", "transport": transport},
    ):
        with tracer.start_as_current_span(
            "py-child", kind=SpanKind.CLIENT, attributes={"n": 1}
        ) as child:
            child.add_event("sent", {"bytes": 42})
    provider.shutdown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True, help="OTLP/HTTP base URL")
    parser.add_argument("--grpc", required=True, help="OTLP/gRPC endpoint URL")
    args = parser.parse_args()
    send(HttpExporter(endpoint=args.http.rstrip("/") + "/v1/traces"), "http")
    send(GrpcExporter(endpoint=args.grpc, insecure=True), "grpc")
    print("sent 4 spans")
    return 0


if __name__ == "__main__":
    sys.exit(main())
