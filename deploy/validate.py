#!/usr/bin/env python3
"""Validates the Kubernetes manifests under deploy/kubernetes before they reach a cluster.

- SpinKube resources (SpinApp, SpinAppExecutor) against the CRDs' openAPIV3Schema in deploy/schemas.
- Built-in kinds (HPA, PDB, NetworkPolicy, Namespace, ...) against the Kubernetes API schemas that
  the kubernetes-validate package ships, in strict mode (unknown fields are errors).
- Cross-checks with spin.toml: a SpinApp only names components that exist, binds only variables
  the application declares, and its key-value stores are declared in the production runtime config;
  autoscalers, disruption budgets and network policies point at a SpinApp that exists.
Exits non-zero with one line per problem.
"""
import pathlib
import re
import sys
import tomllib

import jsonschema
import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
K8S_VERSION = "1.30.0"
CRDS = {
    ("core.spinkube.dev/v1alpha1", "SpinApp"): "core.spinkube.dev_spinapps.yaml",
    ("core.spinkube.dev/v1alpha1", "SpinAppExecutor"): "core.spinkube.dev_spinappexecutors.yaml",
    ("gateway.networking.k8s.io/v1", "Gateway"): "gateway.networking.k8s.io_gateways.yaml",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "gateway.networking.k8s.io_httproutes.yaml",
}
# The only public surface: spin.toml routes under these prefixes (the payment simulator's and
# every `/internal` route are never exposed).
PUBLIC_PREFIXES = ("/v1/", "/.well-known/jwks.json")


def strict(schema):
    """Unknown fields become errors: a cluster prunes them silently, which hides typos."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        for value in schema.values():
            strict(value)
    elif isinstance(schema, list):
        for value in schema:
            strict(value)
    return schema


def crd_schema(file_name, version):
    crd = yaml.safe_load((ROOT / "deploy" / "schemas" / file_name).read_text())
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            return strict(entry["schema"]["openAPIV3Schema"])
    raise KeyError(f"{file_name} has no version {version}")


def public_routes(manifest, deployed):
    """spin.toml's public routes (`/v1/users/...` -> `/v1/users`) of the components in
    `deployed`, mapped to their component."""
    routes = {}
    for trigger in manifest.get("trigger", {}).get("http", []):
        route, component = trigger.get("route"), trigger.get("component")
        if not isinstance(route, str) or component not in deployed:
            continue
        path = route.removesuffix("/...")
        if path.startswith(PUBLIC_PREFIXES):
            routes[path] = component
    return routes


def check_http_routes(docs, spinapps, manifest):
    """Problems with the edge: an HTTPRoute may route only public API prefixes, only to SpinApps
    serving them, and every public route of spin.toml must be routed."""
    problems = []
    serves = {name: set(app.get("spec", {}).get("components", [])) for name, app in spinapps.items()}
    deployed = set().union(*serves.values()) if serves else set()
    routed = {}
    for path, doc in docs:
        if doc.get("kind") != "HTTPRoute":
            continue
        where = f"{path}: HTTPRoute/{doc.get('metadata', {}).get('name', '?')}"
        for n, rule in enumerate(doc.get("spec", {}).get("rules", [])):
            matches = rule.get("matches") or []
            if not matches:
                problems.append(f"{where}: rule {n} has no matches: it would route every path, "
                                "/internal included")
            backends = {b.get("name") for b in rule.get("backendRefs", [])}
            for backend in backends:
                if backend not in serves:
                    problems.append(f"{where}: rule {n} routes to {backend!r}, which is no SpinApp")
            for match in matches:
                p = match.get("path", {"type": "PathPrefix", "value": "/"})
                kind, value = p.get("type", "PathPrefix"), p.get("value", "/")
                if kind not in ("PathPrefix", "Exact"):
                    problems.append(f"{where}: rule {n}: {kind} paths are not allowed "
                                    "(only PathPrefix and Exact can be checked)")
                    continue
                if "/internal".startswith(value.rstrip("/") or "/") or value.startswith("/internal"):
                    problems.append(f"{where}: rule {n}: {value!r} can reach /internal routes")
                    continue
                if not value.startswith(PUBLIC_PREFIXES):
                    problems.append(f"{where}: rule {n}: {value!r} is not a public API path")
                    continue
                for backend in backends:
                    routed[value] = backend
    for route, component in public_routes(manifest, deployed).items():
        backend = routed.get(route)
        if backend is None:
            problems.append(f"public route {route} of {component} is not routed by any HTTPRoute")
        elif component not in serves.get(backend, set()):
            problems.append(f"public route {route} goes to SpinApp {backend}, which does not "
                            f"serve {component}")
    return problems


def main():
    problems = []
    manifest = tomllib.loads((ROOT / "spin.toml").read_text())
    components = manifest.get("component", {})
    app_variables = manifest.get("variables", {})
    runtime = tomllib.loads((ROOT / "deploy" / "runtime-config.production.toml").read_text())
    declared_stores = set(runtime.get("key_value_store", {}))

    docs = []
    files = sorted((ROOT / "deploy" / "kubernetes").rglob("*.yaml"))
    if not files:
        problems.append("deploy/kubernetes holds no manifests")
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.relative_to(ROOT), doc))

    spinapps = {}
    for path, doc in docs:
        key = (doc.get("apiVersion"), doc.get("kind"))
        name = doc.get("metadata", {}).get("name", "?")
        where = f"{path}: {key[1]}/{name}"
        if key in CRDS:
            validator = jsonschema.Draft7Validator(crd_schema(CRDS[key], key[0].split("/")[1]))
            for error in validator.iter_errors(doc):
                problems.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
            if key[1] == "SpinApp":
                spinapps[name] = doc
        else:
            try:
                kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
            except Exception as error:  # unknown kind or version: also a problem
                problems.append(f"{where}: {error}")

    for name, app in spinapps.items():
        spec = app.get("spec", {})
        for component in spec.get("components", []):
            if component not in components:
                problems.append(f"SpinApp/{name}: component {component!r} is not in spin.toml")
            for store in components.get(component, {}).get("key_value_stores", []):
                if store != "default" and store not in declared_stores:
                    problems.append(f"SpinApp/{name}: key-value store {store!r} of {component} "
                                    "is not in deploy/runtime-config.production.toml")
        bound = {v.get("name") for v in spec.get("variables", [])}
        for variable in bound - set(app_variables):
            problems.append(f"SpinApp/{name}: variable {variable!r} is not declared in spin.toml")
        for variable, decl in app_variables.items():
            if decl.get("required") and variable not in bound:
                used = any(f"{{{{ {variable} }}}}" in str(components.get(c, {}))
                           for c in spec.get("components", []))
                if used:
                    problems.append(f"SpinApp/{name}: required variable {variable!r} is not bound")
        # Secrets fail closed: production, and every secret or jwt_* variable its components use
        # bound (an unbound one would run with spin.toml's public development default).
        environment = [v for v in spec.get("variables", []) if v.get("name") == "shopnow_environment"]
        if [v.get("value") for v in environment] != ["production"]:
            problems.append(f"SpinApp/{name}: shopnow_environment must be bound to 'production'")
        for variable, decl in app_variables.items():
            if not (decl.get("secret") or variable.startswith("jwt_")) or variable in bound:
                continue
            used = any(f"{{{{ {variable} }}}}" in str(components.get(c, {}))
                       for c in spec.get("components", []))
            if used:
                problems.append(f"SpinApp/{name}: secret or jwt_* variable {variable!r} is not "
                                "bound: it would run with spin.toml's public development default")
        if spec.get("enableAutoscaling") and spec.get("replicas") is not None:
            problems.append(f"SpinApp/{name}: replicas is set but the autoscaler owns it")

    problems += check_http_routes(docs, spinapps, manifest)

    # Pod label sets that exist: SpinApps' podLabels and workload templates' labels (Jobs, ...).
    pod_labels = [app["spec"].get("podLabels", {}) for app in spinapps.values()]
    pod_labels += [
        doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        for _, doc in docs
        if doc.get("kind") in ("Job", "Deployment", "StatefulSet")
    ]
    # CronJobs: the pods of the Jobs they create.
    pod_labels += [
        doc.get("spec", {}).get("jobTemplate", {}).get("spec", {}).get("template", {})
        .get("metadata", {}).get("labels", {})
        for _, doc in docs
        if doc.get("kind") == "CronJob"
    ]

    for path, doc in docs:
        kind = doc.get("kind")
        name = doc.get("metadata", {}).get("name", "?")
        spec = doc.get("spec", {})
        if kind == "HorizontalPodAutoscaler":
            target = spec.get("scaleTargetRef", {}).get("name")
            if target not in spinapps:
                problems.append(f"{path}: HPA/{name} targets {target!r}, which is no SpinApp")
            elif not spinapps[target]["spec"].get("enableAutoscaling"):
                problems.append(f"{path}: HPA/{name} targets SpinApp {target} without enableAutoscaling")
        if kind in ("PodDisruptionBudget", "NetworkPolicy"):
            selector = (spec.get("selector") or spec.get("podSelector") or {}).get("matchLabels", {})
            if selector and not any(selector.items() <= labels.items() for labels in pod_labels):
                problems.append(f"{path}: {kind}/{name} selects no pods defined here: {selector}")

    # PostgreSQL URLs written anywhere under deploy/ (templates, examples, runtime config): Spin's
    # client knows sslmode disable/prefer/require only, and `require` is the one that both
    # encrypts and verifies the chain and host name (docs/operations.md, "TLS to PostgreSQL").
    for path in sorted((ROOT / "deploy").rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".toml", ".env", ".md"):
            continue
        for url in re.findall(r"postgres(?:ql)?://[^\s\"'`]+", path.read_text()):
            mode = re.search(r"[?&]sslmode=([a-z-]+)", url)
            if not mode or mode.group(1) != "require":
                problems.append(f"{path.relative_to(ROOT)}: {url}: PostgreSQL URLs must say "
                                "sslmode=require (Spin rejects verify-full; prefer/disable may "
                                "skip TLS)")

    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(docs)} manifests checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
