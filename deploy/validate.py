#!/usr/bin/env python3
"""Validates the Kubernetes manifests under deploy/kubernetes before they reach a cluster.

- SpinKube resources (SpinApp, SpinAppExecutor) against the CRDs' openAPIV3Schema in deploy/schemas.
- Built-in kinds (HPA, PDB, NetworkPolicy, Namespace, ...) against the Kubernetes API schemas that
  the kubernetes-validate package ships, in strict mode (unknown fields are errors).
- Cross-checks with the Spin manifest each SpinApp's image is pushed from (ARTIFACTS: spin.toml or
  spin-consumers.toml): a SpinApp only names components that exist, binds only variables that
  manifest declares and every required one it uses, fails closed on secrets, and its key-value
  stores are declared in the production runtime config; its artifact never mixes Redis triggers
  with others, and one serving no HTTP has no `checks` and admits no ingress. A SpinApp of the
  consumers' artifact binds each variable exactly as the SpinApps of spin.toml using it do, and
  variables both manifests declare agree on default and secrecy. Autoscalers, disruption budgets
  and network policies point at pods that exist.
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
# Image repository -> the manifest its artifact is pushed from (scripts/cluster-manifest; the
# cluster copy of spin.toml differs only in routing the private internal triggers).
ARTIFACTS = {
    "ghcr.io/shopnow/shopnow": "spin.toml",
    "ghcr.io/shopnow/shopnow-consumers": "spin-consumers.toml",
}
SERVICES_ARTIFACT = "spin.toml"
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


def load_manifests():
    """Every artifact's manifest, parsed, by file name."""
    return {name: tomllib.loads((ROOT / name).read_text())
            for name in sorted(set(ARTIFACTS.values()))}


def artifact_of(app):
    """The manifest name of a SpinApp's image (`repo:tag` or `repo@digest`), or None."""
    image = app.get("spec", {}).get("image", "")
    repository = image.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return ARTIFACTS.get(repository)


def deployed_components(spec, manifest):
    """The components a SpinApp runs: `components`, or every component of its artifact."""
    return list(spec.get("components") or manifest.get("component", {}))


def trigger_types(manifest):
    return set(manifest.get("trigger", {}))


def serves_http(spec, manifest):
    deployed = set(deployed_components(spec, manifest))
    return any(t.get("component") in deployed for t in manifest.get("trigger", {}).get("http", []))


TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def used_variables(spec, manifest):
    """Application variables a SpinApp's components, their triggers and the application's trigger
    settings (e.g. the Redis address) refer to."""
    deployed = set(deployed_components(spec, manifest))
    parts = [manifest.get("component", {}).get(c, {}) for c in deployed]
    parts += [t for triggers in manifest.get("trigger", {}).values() for t in triggers
              if t.get("component") in deployed]
    parts.append(manifest.get("application", {}).get("trigger", {}))
    return set(TEMPLATE.findall(str(parts)))


def binding(app, variable):
    """How a SpinApp binds a variable (its entry without the name), or None when unbound."""
    for entry in app.get("spec", {}).get("variables", []):
        if entry.get("name") == variable:
            return {k: v for k, v in entry.items() if k != "name"}
    return None


def check_spinapps(spinapps, manifests, declared_stores):
    """Problems of each SpinApp against the manifest of its artifact (and, for artifacts other than
    spin.toml, against the services' SpinApps)."""
    problems = []
    artifacts = {name: artifact_of(app) for name, app in spinapps.items()}
    for name, app in spinapps.items():
        spec = app.get("spec", {})
        artifact = artifacts[name]
        if artifact is None:
            problems.append(f"SpinApp/{name}: image {spec.get('image')!r} is no known artifact "
                            f"({', '.join(sorted(ARTIFACTS))})")
            continue
        manifest = manifests[artifact]
        components = manifest.get("component", {})
        app_variables = manifest.get("variables", {})
        deployed = deployed_components(spec, manifest)
        used = used_variables(spec, manifest)
        # Spin's Redis trigger exits when Redis drops its connection, and Spin then stops every
        # trigger of the process: Redis triggers get an artifact (and pods) of their own.
        types = trigger_types(manifest)
        if "redis" in types and len(types) > 1:
            problems.append(f"SpinApp/{name}: its artifact ({artifact}) mixes Redis and "
                            f"{', '.join(sorted(types - {'redis'}))} triggers")
        if spec.get("checks") and not serves_http(spec, manifest):
            problems.append(f"SpinApp/{name}: `checks` on a SpinApp serving no HTTP: every probe "
                            "would fail (liveness would restart healthy pods)")
        for component in spec.get("components", []):
            if component not in components:
                problems.append(f"SpinApp/{name}: component {component!r} is not in {artifact}")
        for component in deployed:
            for store in components.get(component, {}).get("key_value_stores", []):
                if store != "default" and store not in declared_stores:
                    problems.append(f"SpinApp/{name}: key-value store {store!r} of {component} "
                                    "is not in deploy/runtime-config.production.toml")
        bound = {v.get("name") for v in spec.get("variables", [])}
        for variable in sorted(bound - set(app_variables)):
            problems.append(f"SpinApp/{name}: variable {variable!r} is not declared in {artifact}")
        for variable, decl in app_variables.items():
            if decl.get("required") and variable not in bound and variable in used:
                problems.append(f"SpinApp/{name}: required variable {variable!r} is not bound")
        # Secrets fail closed: production, and every secret or jwt_* variable its components use
        # bound (an unbound one would run with the manifest's public development default).
        environment = [v for v in spec.get("variables", []) if v.get("name") == "shopnow_environment"]
        if [v.get("value") for v in environment] != ["production"]:
            problems.append(f"SpinApp/{name}: shopnow_environment must be bound to 'production'")
        for variable, decl in app_variables.items():
            if not (decl.get("secret") or variable.startswith("jwt_")) or variable in bound:
                continue
            if variable in used and not decl.get("required"):
                problems.append(f"SpinApp/{name}: secret or jwt_* variable {variable!r} is not "
                                f"bound: it would run with {artifact}'s public development default")
        if spec.get("enableAutoscaling") and spec.get("replicas") is not None:
            problems.append(f"SpinApp/{name}: replicas is set but the autoscaler owns it")
        if artifact == SERVICES_ARTIFACT:
            continue
        # Another artifact of the same wasm (the consumers): it must see the services' databases,
        # streams and settings, so each variable is bound as the services' SpinApps using it bind
        # it, or left at its default where they all leave it.
        services = manifests[SERVICES_ARTIFACT]
        for variable in sorted(used & set(services.get("variables", {}))):
            mine = binding(app, variable)
            theirs = {}
            for other, other_app in spinapps.items():
                if artifacts[other] != SERVICES_ARTIFACT:
                    continue
                if variable in used_variables(other_app.get("spec", {}), services):
                    value = binding(other_app, variable)
                    if value is not None:
                        theirs[other] = value
            if mine is None and theirs:
                problems.append(f"SpinApp/{name}: variable {variable!r} is unbound, but "
                                f"SpinApp/{min(theirs)} binds it: {theirs[min(theirs)]}")
            elif mine is not None and not theirs:
                problems.append(f"SpinApp/{name}: variable {variable!r} is bound, but every "
                                "SpinApp of spin.toml using it leaves it at its default")
            for other, value in sorted(theirs.items()):
                if mine is not None and value != mine:
                    problems.append(f"SpinApp/{name}: variable {variable!r} is bound as {mine}, "
                                    f"SpinApp/{other} binds it as {value}")
    return problems


def check_shared_variables(manifests):
    """Variables declared in several manifests mean the same: same default, same secrecy (a
    manifest may make one required instead of defaulting it)."""
    problems = []
    names = sorted(manifests)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a = manifests[first].get("variables", {})
            b = manifests[second].get("variables", {})
            for variable in sorted(set(a) & set(b)):
                if "default" in a[variable] and "default" in b[variable] \
                        and a[variable]["default"] != b[variable]["default"]:
                    problems.append(f"variable {variable!r}: default {a[variable]['default']!r} in "
                                    f"{first}, {b[variable]['default']!r} in {second}")
                if bool(a[variable].get("secret")) != bool(b[variable].get("secret")):
                    problems.append(f"variable {variable!r}: secret in one of {first} and "
                                    f"{second} only")
    return problems


def selects(selector, labels):
    """Whether a label selector (matchLabels, matchExpressions) selects a pod with `labels`."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def check_silent_ingress(docs, spinapps, manifests):
    """A SpinApp serving no HTTP answers nobody: no NetworkPolicy may admit ingress to its pods
    (SpinKube still gives it a Service)."""
    problems = []
    for name, app in spinapps.items():
        artifact = artifact_of(app)
        spec = app.get("spec", {})
        if artifact is None or serves_http(spec, manifests[artifact]):
            continue
        labels = spec.get("podLabels", {})
        for path, doc in docs:
            if doc.get("kind") != "NetworkPolicy":
                continue
            policy = doc.get("spec", {})
            if policy.get("ingress") and selects(policy.get("podSelector", {}), labels):
                problems.append(f"{path}: NetworkPolicy/{doc.get('metadata', {}).get('name', '?')} "
                                f"admits ingress to SpinApp {name}, which serves no HTTP")
    return problems


def check_spin_routes(manifest):
    """Route sets Spin 4.0.2 cannot order: it sorts routes with routefinder 0.5.4, whose
    comparison is not consistent when a route holds a dot, so a catch-all `/...` beside such a
    route can outrank other components' routes (docs/storefront.md, "Routes on Spin")."""
    routes = [t.get("route") for t in manifest.get("trigger", {}).get("http", [])]
    routes = [r for r in routes if isinstance(r, str)]
    dotted = [r for r in routes if "." in r.removesuffix("/...")]
    if "/..." in routes and dotted:
        return [f"spin.toml: a catch-all route \"/...\" beside {', '.join(dotted)}: Spin 4.0.2 may "
                "send other components' requests to it; list the catch-all's paths instead"]
    return []


def main():
    problems = []
    manifests = load_manifests()
    manifest = manifests[SERVICES_ARTIFACT]
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

    problems += check_spinapps(spinapps, manifests, declared_stores)
    problems += check_shared_variables(manifests)
    problems += check_silent_ingress(docs, spinapps, manifests)
    problems += check_http_routes(docs, spinapps, manifest)
    for artifact in manifests.values():
        problems += check_spin_routes(artifact)

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
