//! The deployment files, checked without Docker or a cluster (neither runs on this machine): they
//! parse, every workload has probes and resources, Services, autoscalers and disruption budgets
//! match their Deployments, and the configuration they carry is one Echo accepts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .filter(|v| !v.is_null())
        .collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, key| v.get(*key))?.as_str()
}

fn kustomize_resources(dir: &Path) -> Vec<Value> {
    let kustomization = &documents(&dir.join("kustomization.yaml"))[0];
    let mut out = Vec::new();
    for resource in kustomization["resources"].as_sequence().unwrap() {
        let target = dir.join(resource.as_str().unwrap());
        if target.is_dir() {
            assert!(
                target.join("kustomization.yaml").is_file(),
                "{} has no kustomization",
                target.display()
            );
        } else {
            out.extend(documents(&target));
        }
    }
    out
}

#[test]
fn every_workload_has_probes_resources_a_service_an_autoscaler_and_a_disruption_budget() {
    let docs = kustomize_resources(&repo().join("deploy/k8s/base"));
    let named = |kind: &str| -> BTreeSet<String> {
        docs.iter()
            .filter(|d| d["kind"] == kind)
            .map(|d| str_at(d, &["metadata", "name"]).unwrap().to_owned())
            .collect()
    };
    let deployments = named("Deployment");
    assert_eq!(
        deployments,
        ["echo-ai", "echo-gateway", "echo-messages", "echo-users"]
            .map(String::from)
            .into()
    );
    assert_eq!(named("Service"), deployments);
    assert_eq!(named("HorizontalPodAutoscaler"), deployments);
    assert_eq!(named("PodDisruptionBudget"), deployments);

    for d in docs.iter().filter(|d| d["kind"] == "Deployment") {
        let name = str_at(d, &["metadata", "name"]).unwrap();
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        assert!(
            container["readinessProbe"]["httpGet"]["path"] == "/readyz",
            "{name}"
        );
        assert!(
            container["livenessProbe"]["httpGet"]["path"] == "/healthz",
            "{name}"
        );
        assert!(container["resources"]["requests"]["cpu"].is_string(), "{name}");
        let args: Vec<&str> = container["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args[0], "serve", "{name}");
        assert_eq!(format!("echo-{}", args[1]), name, "{name} runs its own service");
        let port = container["ports"][0]["containerPort"].as_u64().unwrap();
        assert_eq!(args[3], port.to_string(), "{name} listens where its probes look");
        let service = docs
            .iter()
            .find(|s| s["kind"] == "Service" && str_at(s, &["metadata", "name"]) == Some(name))
            .unwrap();
        assert_eq!(service["spec"]["ports"][0]["port"].as_u64(), Some(port));
        assert_eq!(
            service["spec"]["selector"], d["spec"]["selector"]["matchLabels"],
            "{name}: the Service selects the pods"
        );
    }
}

#[test]
fn the_cluster_configuration_is_accepted_by_echo_and_names_existing_services() {
    let docs = kustomize_resources(&repo().join("deploy/k8s/base"));
    let config_map = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let toml = str_at(config_map, &["data", "echo.toml"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("echo.toml");
    std::fs::write(&file, toml).unwrap();

    let config = echo_server::config::EchoConfig::load(&echo_server::config::Overrides {
        config_file: Some(file),
        ..Default::default()
    })
    .unwrap();

    let upstreams = &config.gateway.upstreams;
    for url in upstreams
        .users
        .iter()
        .chain(&upstreams.messages)
        .chain(&upstreams.ai)
    {
        let host_port = url.trim_start_matches("http://");
        let (host, port) = host_port.split_once(':').unwrap();
        let service = docs
            .iter()
            .find(|d| d["kind"] == "Service" && str_at(d, &["metadata", "name"]) == Some(host));
        let service = service.unwrap_or_else(|| panic!("{url} names no Service"));
        assert_eq!(
            service["spec"]["ports"][0]["port"]
                .as_u64()
                .map(|p| p.to_string())
                .as_deref(),
            Some(port)
        );
    }
}

#[test]
fn the_overlays_and_compose_file_parse_and_point_at_real_files() {
    for overlay in ["minikube", "eks"] {
        let docs = kustomize_resources(&repo().join("deploy/k8s/overlays").join(overlay));
        assert!(!docs.is_empty(), "{overlay} adds its own resources");
    }
    let compose = &documents(&repo().join("deploy/docker-compose.yml"))[0];
    let services = compose["services"].as_mapping().unwrap();
    for (name, service) in services {
        let name = name.as_str().unwrap();
        assert!(
            service.get("healthcheck").is_some() || service.get("<<").is_some(),
            "{name} has a health check"
        );
    }
    for needed in [
        "postgres",
        "redis",
        "minio",
        "users",
        "messages-1",
        "messages-2",
        "ai",
        "gateway",
    ] {
        assert!(services.contains_key(needed), "compose runs {needed}");
    }
    for mounted in [
        "deploy/echo.compose.toml",
        "deploy/postgres-init.sql",
        "deploy/Dockerfile",
    ] {
        assert!(repo().join(mounted).is_file(), "{mounted}");
    }
    let workflow = std::fs::read_to_string(repo().join(".github/workflows/ci.yml")).unwrap();
    assert!(
        workflow.contains("bash .ci/run"),
        "the workflow runs the same checks as CI"
    );
    documents(&repo().join(".github/workflows/ci.yml"));
}
