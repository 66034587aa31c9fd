#!/usr/bin/env python3
"""Tests of deploy/validate.py: every rendered overlay passes; every way a route could expose
`/internal` (or miss a public route) is caught, and so is each way the consumers' SpinApp could
drift from spin-consumers.toml or from the services' SpinApps, a container without limits, an
inlined Secret or credential, two scalers on one target, a scaler on nothing, a region whose
minimums contradict its role, and a storefront whose identity trusts no more proxies than the
public one. Run by scripts/validate-deploy (which needs kubectl to render)."""
import copy
import functools
import pathlib
import re
import sys
import tempfile
import tomllib
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import validate  # noqa: E402

ROOT = validate.ROOT


@functools.cache
def rendered(overlay):
    """The documents of one overlay, rendered once per test run."""
    return tuple(validate.render(validate.overlays()[overlay]))


def documents(overlay="region-a"):
    """A fresh, modifiable copy of an overlay's documents."""
    return copy.deepcopy(list(rendered(overlay)))


def find(docs, kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def spinapps(overlay="region-a"):
    return {d["metadata"]["name"]: d for d in documents(overlay) if d["kind"] == "SpinApp"}


def route(*rules):
    return ("test.yaml", {"kind": "HTTPRoute", "metadata": {"name": "t"}, "spec": {"rules": list(rules)}})


def rule(backend, *paths):
    return {"matches": [{"path": {"type": t, "value": v}} for t, v in paths],
            "backendRefs": [{"name": backend, "port": 80}]}


class SpinRoutes(unittest.TestCase):
    def test_the_shipped_routes_pass(self):
        manifest = tomllib.loads((ROOT / "spin.toml").read_text())
        self.assertEqual(validate.check_spin_routes(manifest), [])

    def test_a_catch_all_beside_a_dotted_route_is_refused(self):
        def manifest(*routes):
            return {"trigger": {"http": [{"route": r, "component": "c"} for r in routes]}}
        self.assertTrue(validate.check_spin_routes(manifest("/...", "/.well-known/jwks.json")))
        self.assertEqual(validate.check_spin_routes(manifest("/...", "/v1/users/...")), [])
        self.assertEqual(validate.check_spin_routes(manifest("/", "/.well-known/jwks.json")), [])


class EdgeRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifest = tomllib.loads((ROOT / "spin.toml").read_text())
        cls.apps = spinapps()
        cls.shipped = [("region-a", d) for d in documents() if d["kind"] == "HTTPRoute"]

    def problems(self, *docs):
        return validate.check_http_routes(list(docs), self.apps, self.manifest)

    def test_the_shipped_route_exposes_exactly_the_public_api(self):
        self.assertEqual(self.problems(*self.shipped), [])

    def test_routes_that_could_reach_internal_are_refused(self):
        shipped = self.shipped
        for bad in (
            rule("orders", ("PathPrefix", "/")),
            rule("orders", ("PathPrefix", "/internal")),
            rule("orders", ("PathPrefix", "/internal/v1/orders")),
            rule("orders", ("Exact", "/internal/v1/orders/sweep")),
            rule("orders", ("RegularExpression", "/v1/.*")),
            {"backendRefs": [{"name": "orders", "port": 80}]},
        ):
            with self.subTest(bad=bad):
                problems = self.problems(*shipped, route(bad))
                self.assertTrue(problems, f"{bad} was accepted")

    def test_a_private_spinapp_or_a_missing_public_route_is_refused(self):
        self.assertTrue(self.problems(route(rule("catalog-internal", ("PathPrefix", "/v1/products")))))
        self.assertIn("public route /v1/orders of orders is not routed by any HTTPRoute",
                      self.problems(route(rule("identity", ("PathPrefix", "/v1/users")))))


def kubernetes_docs():
    return [("region-a", d) for d in documents()]


def variables(app):
    return {v["name"]: v for v in app["spec"]["variables"]}


class SpinAppRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifests = validate.load_manifests()
        runtime = tomllib.loads((ROOT / "deploy" / "runtime-config.production.toml").read_text())
        cls.stores = set(runtime["key_value_store"])
        cls.docs = kubernetes_docs()

    def setUp(self):
        self.apps = copy.deepcopy(spinapps())
        self.consumers = self.apps["shopnow-consumers"]
        self.manifests = copy.deepcopy(type(self).manifests)

    def problems(self):
        return (validate.check_spinapps(self.apps, self.manifests, self.stores)
                + validate.check_shared_variables(self.manifests)
                + validate.check_silent_ingress(self.docs, self.apps, self.manifests))

    def assertProblem(self, text):
        problems = self.problems()
        self.assertTrue(any(text in p for p in problems), f"no problem with {text!r}: {problems}")

    def unbind(self, app, name):
        app["spec"]["variables"] = [v for v in app["spec"]["variables"] if v["name"] != name]

    def test_the_shipped_spinapps_pass(self):
        self.assertEqual(self.problems(), [])

    def test_the_consumers_run_the_consumers_artifact(self):
        self.assertEqual(validate.artifact_of(self.consumers), "spin-consumers.toml")
        self.assertFalse(validate.serves_http(self.consumers["spec"],
                                              self.manifests["spin-consumers.toml"]))

    def test_an_unknown_image_is_refused(self):
        self.consumers["spec"]["image"] = "ghcr.io/shopnow/other:0.1.0"
        self.assertProblem("is no known artifact")

    def test_the_required_redis_address_must_be_bound(self):
        self.unbind(self.consumers, "events_redis_url")
        self.assertProblem("required variable 'events_redis_url' is not bound")

    def test_a_variable_the_consumers_manifest_does_not_declare_is_refused(self):
        self.consumers["spec"]["variables"].append(copy.deepcopy(
            variables(self.apps["orders"])["orders_cursor_secret"]))
        self.assertProblem("variable 'orders_cursor_secret' is not declared in spin-consumers.toml")

    def test_an_unbound_secret_is_refused(self):
        self.unbind(self.consumers, "catalog_cursor_secret")
        self.assertProblem("'catalog_cursor_secret' is not bound: it would run with")

    def test_a_binding_unlike_the_services_is_refused(self):
        variables(self.consumers)["orders_database_url"]["valueFrom"]["secretKeyRef"]["name"] = \
            "catalog-secrets"
        self.assertProblem("variable 'orders_database_url' is bound as")

    def test_a_variable_the_services_bind_and_the_consumers_do_not_is_refused(self):
        self.unbind(self.consumers, "orders_database_host")
        self.assertProblem(
            "variable 'orders_database_host' is unbound, but SpinApp/orders binds it")

    def test_a_variable_every_service_leaves_at_its_default_must_stay_so(self):
        self.consumers["spec"]["variables"].append({"name": "events_stream_prefix", "value": "x"})
        self.assertProblem("variable 'events_stream_prefix' is bound, but every SpinApp")

    def test_defaults_and_secrecy_of_shared_variables_must_agree(self):
        shared = self.manifests["spin-consumers.toml"]["variables"]
        shared["events_stream_prefix"]["default"] = "other"
        shared["orders_database_url"]["secret"] = False
        self.assertProblem(
            "variable 'events_stream_prefix': default 'other' in spin-consumers.toml")
        self.assertProblem("variable 'orders_database_url': secret in one of")

    def test_an_artifact_mixing_redis_and_http_triggers_is_refused(self):
        consumers = self.manifests["spin-consumers.toml"]
        consumers["trigger"]["http"] = [{"route": "/...", "component": "orders-consumer"}]
        self.assertProblem("SpinApp/shopnow-consumers: its artifact (spin-consumers.toml) mixes")
        services = self.manifests["spin.toml"]
        services["trigger"]["redis"] = [{"channel": "c", "component": "orders"}]
        self.assertProblem("SpinApp/orders: its artifact (spin.toml) mixes")

    def test_checks_on_a_spinapp_serving_no_http_are_refused(self):
        self.consumers["spec"]["checks"] = copy.deepcopy(self.apps["orders"]["spec"]["checks"])
        self.assertProblem("SpinApp/shopnow-consumers: `checks` on a SpinApp serving no HTTP")

    def test_ingress_to_a_spinapp_serving_no_http_is_refused(self):
        docs = copy.deepcopy(self.docs)
        for _, doc in docs:
            if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"] == "shopnow-consumers":
                doc["spec"]["ingress"] = [{"from": [{"podSelector": {}}]}]
        self.docs = docs
        self.assertProblem("admits ingress to SpinApp shopnow-consumers")


class Overlays(unittest.TestCase):
    """Whole renderings through validate_documents, as scripts/validate-deploy runs them: the
    shipped overlays pass, and each mistake below makes them fail."""

    @classmethod
    def setUpClass(cls):
        cls.manifests = validate.load_manifests()
        runtime = tomllib.loads((ROOT / "deploy" / "runtime-config.production.toml").read_text())
        cls.stores = set(runtime["key_value_store"])
        cls.schemas = validate.Schemas()

    def problems(self, docs, overlay="region-a"):
        return validate.validate_documents(overlay, docs, self.manifests, self.stores,
                                           self.schemas)

    def assertFails(self, docs, text, overlay="region-a"):
        problems = self.problems(docs, overlay)
        self.assertTrue(any(text in p for p in problems), f"no problem with {text!r}: {problems}")

    def test_every_shipped_overlay_passes(self):
        self.assertEqual(set(validate.overlays()), {"region-a", "region-b"})
        for overlay in validate.overlays():
            with self.subTest(overlay=overlay):
                self.assertEqual(self.problems(documents(overlay), overlay), [])

    def test_region_b_after_a_failover_is_a_valid_active_region(self):
        # The runbook's step (docs/operations.md, "Deploying to two regions"): drop the passive
        # component from region-b's overlay; what renders then passes as an active region.
        overlay = validate.OVERLAYS / "region-b" / "kustomization.yaml"
        text, count = re.subn(r"\ncomponents:\n  - \.\./\.\./components/passive\n", "\n",
                              overlay.read_text())
        self.assertEqual(count, 1, "region-b no longer includes the passive component")
        with tempfile.TemporaryDirectory(dir=validate.OVERLAYS, prefix=".failover-") as scratch:
            (pathlib.Path(scratch) / "kustomization.yaml").write_text(text)
            docs = validate.render(pathlib.Path(scratch))
        self.assertEqual(validate.region_role([("", d) for d in docs]), "active")
        self.assertEqual(self.problems(docs, "region-b-failed-over"), [])

    def test_a_container_without_limits_is_refused(self):
        docs = documents()
        job = find(docs, "CronJob", "orders-sweep")
        del job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        self.assertFails(docs, "container 'sweep' resources lack limits.cpu, limits.memory")

    def test_a_spinapp_without_a_memory_request_is_refused(self):
        docs = documents()
        del find(docs, "SpinApp", "storefront")["spec"]["resources"]["requests"]["memory"]
        self.assertFails(docs, "SpinApp/storefront: resources lack requests.memory")

    def test_an_inlined_secret_is_refused(self):
        for field in ("data", "stringData"):
            with self.subTest(field=field):
                docs = documents()
                docs.append({"apiVersion": "v1", "kind": "Secret",
                             "metadata": {"name": "catalog-secrets", "namespace": "shopnow"},
                             field: {"cursor_secret": "c2VjcmV0"}})
                self.assertFails(docs, "Secret/catalog-secrets: a Secret with data")

    def test_a_literal_credential_is_refused(self):
        docs = documents()
        binding = variables(find(docs, "SpinApp", "orders"))["orders_cursor_secret"]
        del binding["valueFrom"]
        binding["value"] = "not-so-secret"
        self.assertFails(docs, "SpinApp/orders: orders_cursor_secret has a literal value")
        docs = documents()
        container = find(docs, "Job", "orders-migrate-0-1-0")["spec"]["template"]["spec"]["containers"][0]
        container["env"] = [{"name": "ORDERS_DATABASE_URL", "value": "postgres://u:p@h/db?sslmode=require"}]
        self.assertFails(docs, "Job/orders-migrate-0-1-0: ORDERS_DATABASE_URL has a literal value")
        docs = documents()
        find(docs, "ConfigMap", find_name(docs, "orders-config"))["data"]["catalog_url"] = \
            "http://svc:hunter2@catalog.shopnow.svc.cluster.local"
        self.assertFails(docs, "catalog_url holds a URL with a password")

    def test_a_route_to_internal_is_refused_in_every_overlay(self):
        for overlay in validate.overlays():
            with self.subTest(overlay=overlay):
                docs = documents(overlay)
                find(docs, "HTTPRoute", "orders")["spec"]["rules"][1]["matches"].append(
                    {"path": {"type": "PathPrefix", "value": "/internal/v1/orders"}})
                self.assertFails(docs, "'/internal/v1/orders' can reach /internal routes", overlay)

    def test_an_hpa_beside_a_scaled_object_is_refused(self):
        docs = documents()
        docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                     "metadata": {"name": "orders-cpu", "namespace": "shopnow"},
                     "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": "orders"},
                              "minReplicas": 3, "maxReplicas": 60}})
        self.assertFails(docs, "Deployment/orders is the target of ScaledObject/orders and "
                               "HPA/orders-cpu: one scaler per target")

    def test_two_keda_scalers_on_one_target_are_refused(self):
        docs = documents("region-b")
        docs.append(copy.deepcopy(find(documents(), "ScaledObject", "catalog")))
        self.assertFails(docs, "Deployment/catalog is the target of HTTPScaledObject/catalog and "
                               "ScaledObject/catalog", "region-b")

    def test_a_scaler_on_nothing_and_a_spinapp_without_one_are_refused(self):
        docs = documents()
        find(docs, "ScaledObject", "storefront")["spec"]["scaleTargetRef"]["name"] = "shop"
        self.assertFails(docs, "ScaledObject/storefront targets Deployment/shop, which is no SpinApp")
        self.assertFails(docs, "SpinApp/storefront leaves its replicas to an autoscaler, and none")

    def test_the_active_region_keeps_three_replicas(self):
        docs = documents()
        find(docs, "ScaledObject", "catalog-internal")["spec"]["minReplicaCount"] = 2
        self.assertFails(docs, "ScaledObject/catalog-internal has minimum 2 in an active region")
        docs = documents()
        del find(docs, "ScaledObject", "identity")["spec"]["minReplicaCount"]
        self.assertFails(docs, "ScaledObject/identity has minimum 0 in an active region")

    def test_the_passive_region_scales_every_public_spinapp_to_zero(self):
        docs = documents("region-b")
        find(docs, "HTTPScaledObject", "storefront")["spec"]["replicas"]["min"] = 1
        self.assertFails(docs, "public SpinApp/storefront has no scaler with minimum 0", "region-b")
        docs = documents("region-b")
        del find(docs, "CronJob", "orders-sweep")["spec"]["suspend"]
        self.assertFails(docs, "CronJob/orders-sweep is not suspended in a passive region",
                         "region-b")

    def test_the_interceptor_needs_a_grant_and_a_route_for_each_path(self):
        docs = [d for d in documents("region-b") if d["kind"] != "ReferenceGrant"]
        self.assertFails(docs, "routes to the interceptor in namespace keda without a "
                               "ReferenceGrant", "region-b")
        docs = documents("region-b")
        find(docs, "HTTPScaledObject", "catalog")["spec"]["pathPrefixes"] = ["/v1/products"]
        self.assertFails(docs, "no HTTPScaledObject routes api.shopnow.example/v1/categories",
                         "region-b")
        self.assertFails(docs, "public route /v1/categories of catalog is not routed", "region-b")

    def test_the_storefront_pages_must_be_routed(self):
        docs = [d for d in documents() if not (d["kind"] == "HTTPRoute"
                                                and d["metadata"]["name"] == "storefront")]
        self.assertFails(docs, "public route /checkout of storefront is not routed")

    def test_a_kind_without_a_vendored_schema_is_refused(self):
        docs = documents()
        docs.append({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                     "metadata": {"name": "shopnow-tls", "namespace": "shopnow"}, "spec": {}})
        self.assertFails(docs, "no vendored CRD schema for Certificate (cert-manager.io/v1)")

    def test_unknown_fields_are_refused_in_builtin_and_custom_kinds(self):
        docs = documents()
        find(docs, "PodDisruptionBudget", "orders")["spec"]["minAvailabe"] = 2
        find(docs, "ScaledObject", "orders")["spec"]["minReplicas"] = 3
        self.assertFails(docs, "PodDisruptionBudget/orders")
        self.assertFails(docs, "ScaledObject/orders: spec: Additional properties are not allowed")

    def test_a_missing_configmap_key_is_refused(self):
        docs = documents()
        del find(docs, "ConfigMap", find_name(docs, "storefront-config"))["data"]["orders_url"]
        self.assertFails(docs, "reads key 'orders_url' of ConfigMap storefront-config")


    def test_the_storefronts_identity_must_trust_more_proxies_than_the_public_one(self):
        for overlay in validate.overlays():
            with self.subTest(overlay=overlay):
                docs = documents(overlay)
                config = find(docs, "ConfigMap", find_name(docs, "identity-config"))["data"]
                config["storefront_trusted_proxies"] = config["trusted_proxies"]
                self.assertFails(docs, "SpinApp/identity-storefront, the storefront's identity, "
                                       "trusts", overlay)
        docs = documents()
        find(docs, "ConfigMap", find_name(docs, "storefront-config"))["data"]["identity_url"] = \
            "http://identity.shopnow.svc.cluster.local"
        self.assertFails(docs, "SpinApp/identity, the storefront's identity, is routed at the edge")
        self.assertFails(docs, "trusts 1 proxies, not more than public SpinApp/identity (1)")

def find_name(docs, prefix):
    """The rendered (hashed) name of a generated ConfigMap."""
    return next(d["metadata"]["name"] for d in docs
                if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(prefix + "-"))


if __name__ == "__main__":
    unittest.main()
