//! Logging and tracing. Logs go to standard error: human-readable lines on a terminal, JSON lines
//! (one object per event, with the request id of the span) when `json` is asked for, as log
//! collectors in scaled deployments expect. Standard output stays for what a command prints as its
//! result. When an OpenTelemetry collector is configured, spans are also exported to it (OTLP over
//! HTTP), and the W3C `traceparent` header carries a trace from the gateway into the services.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Where traces go: `endpoint` is the collector's base URL (`http://collector:4318`); without it,
/// the standard `OTEL_EXPORTER_OTLP_ENDPOINT` variable is honoured; without either, nothing is
/// exported.
pub struct Tracing<'a> {
    pub endpoint: Option<&'a str>,
    /// `service.name` of the spans (`echo`, `echo-gateway`, …).
    pub service: &'a str,
}

/// Keeps the trace exporter running; dropping it sends the spans still buffered.
#[must_use = "dropping it stops the trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("the last traces could not be exported: {e}");
        }
    }
}

/// Installs the global subscriber once; later calls (tests starting many servers) are no-ops.
pub fn init(json: bool, tracing: Option<Tracing<'_>>) -> Telemetry {
    // `ECHO_LOG` chooses what is logged; spans are exported at `info` whatever it says, so that
    // quieting the logs does not blind the traces.
    let logged = EnvFilter::try_from_env("ECHO_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_writer(std::io::stderr);
    let fmt = if json {
        fmt.json().flatten_event(true).boxed()
    } else {
        fmt.boxed()
    };
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![fmt.with_filter(logged).boxed()];
    let provider = tracing.and_then(|t| match exporter(&t) {
        Ok(provider) => provider,
        Err(e) => {
            eprintln!("traces will not be exported: {e:#}");
            None
        }
    });
    if let Some(provider) = &provider {
        let traced = EnvFilter::new(DEFAULT_FILTER);
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("echo"))
                .with_filter(traced)
                .boxed(),
        );
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    }
    let installed = tracing_subscriber::registry().with(layers).try_init().is_ok();
    Telemetry {
        provider: provider.filter(|_| installed),
    }
}

const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

fn exporter(tracing: &Tracing<'_>) -> anyhow::Result<Option<SdkTracerProvider>> {
    let mut builder = opentelemetry_otlp::SpanExporter::builder().with_http();
    match tracing.endpoint.filter(|e| !e.is_empty()) {
        Some(base) => {
            let base = base.trim_end_matches('/');
            let url = if base.ends_with("/v1/traces") {
                base.to_owned()
            } else {
                format!("{base}/v1/traces")
            };
            builder = builder.with_endpoint(url);
        }
        None if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() => {}
        None => return Ok(None),
    }
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(tracing.service.to_owned())
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(builder.build()?)
            .with_resource(resource)
            .build(),
    ))
}

/// The trace a request belongs to, from its `traceparent` header (none: a new trace).
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    let _ = span.set_parent(parent);
}

/// Adds the current span's `traceparent` to a request about to leave for another service.
pub fn pass_trace_on(headers: &mut HeaderMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut HeadersMut(headers)));
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}
