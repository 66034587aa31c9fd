//! Workloads: what requests a run sends and in which proportions. A workload is a list of request
//! kinds with weights plus a function that builds one request of a kind; anything it needs first
//! (users, tokens, products) it creates over HTTP in its setup, before the clock starts. Knows
//! nothing of scheduling or statistics.
//!
//! Adding a mix (the catalog/orders shopper mix, say) is one module with a `setup` constructor and
//! a [`Workload`] impl, plus a [`MixName`] variant and a line in [`build`].

pub(crate) mod identity;
pub(crate) mod shopper;
pub(crate) mod single;
pub(crate) mod storefront;

use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, header};
use http_body_util::Full;

use crate::client::{Body, SetupClient};
use crate::rng::Rng;
use crate::target::Target;

/// One kind of request in a mix: a name for reports (`users.me`) and a relative weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kind {
    pub(crate) name: String,
    pub(crate) weight: u32,
}

impl Kind {
    pub(crate) fn new(name: &str, weight: u32) -> Self {
        Self {
            name: name.to_owned(),
            weight,
        }
    }
}

/// A workload the generator can drive.
///
/// `request` runs on the hot path, once per request: keep it to building a request from data the
/// setup prepared (no I/O, no locks held across requests).
pub(crate) trait Workload: Send + Sync {
    /// The request kinds and their weights; the scheduler picks among them by weight.
    fn kinds(&self) -> &[Kind];

    /// The same kinds, for `--weight` overrides after setup.
    fn kinds_mut(&mut self) -> &mut [Kind];

    /// One request of kind `kind` (an index into [`kinds`](Self::kinds)).
    ///
    /// Fails only on an index out of range or a request that cannot be built.
    fn request(&self, kind: usize, rng: &mut Rng) -> anyhow::Result<Request<Body>>;

    /// One line for reports: what this workload sends.
    fn describe(&self) -> String;
}

/// The named mixes of `shopnow-bench scenario --mix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum MixName {
    /// Sign-in, profile reads with a real bearer token, and the public keys (identity service).
    Identity,
    /// Browse, search, product pages, cart, checkout, order history and sign-in over a seeded
    /// catalog (catalog, orders and identity services).
    Shopper,
    /// Storefront pages (home, search, product, cart) beside the API reads they wrap.
    Storefront,
}

/// Options of the scenario mixes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MixArgs {
    /// The mix to run.
    #[arg(long, value_enum, default_value = "identity")]
    pub(crate) mix: MixName,
    /// Accounts the setup phase creates (or reuses) and signs in; requests pick among them.
    #[arg(long, default_value_t = 16)]
    pub(crate) users: u32,
    /// Setup connections that sign users up and in concurrently (password hashing is slow).
    #[arg(long, default_value_t = 8)]
    pub(crate) setup_concurrency: usize,
    /// Override a kind's weight, `KIND=WEIGHT` (repeatable), e.g. `--weight sign-in=0`.
    #[arg(long = "weight", value_name = "KIND=WEIGHT")]
    pub(crate) weights: Vec<String>,
}

/// Runs the setup phase of `args.mix` against `client`'s target and returns the ready workload.
///
/// Fails when setup requests fail or a `--weight` names no kind of the mix.
pub(crate) async fn build(
    args: &MixArgs,
    client: &mut SetupClient,
) -> anyhow::Result<Box<dyn Workload>> {
    let mut workload: Box<dyn Workload> = match args.mix {
        MixName::Identity => Box::new(identity::IdentityMix::setup(client, args.users).await?),
        MixName::Shopper => {
            Box::new(shopper::ShopperMix::setup(client, args.users, args.setup_concurrency).await?)
        }
        MixName::Storefront => {
            Box::new(storefront::StorefrontMix::setup(client, args.users).await?)
        }
    };
    for spec in &args.weights {
        let (name, weight) = parse_weight(spec)?;
        let names: Vec<String> = workload.kinds().iter().map(|k| k.name.clone()).collect();
        match workload.kinds_mut().iter_mut().find(|k| k.name == name) {
            Some(kind) => kind.weight = weight,
            None => bail!(
                "--weight {spec}: no such kind (kinds: {})",
                names.join(", ")
            ),
        }
    }
    Picker::new(workload.kinds())?;
    Ok(workload)
}

fn parse_weight(spec: &str) -> anyhow::Result<(String, u32)> {
    let (name, weight) = spec
        .split_once('=')
        .with_context(|| format!("--weight {spec:?}: expected KIND=WEIGHT"))?;
    let weight = weight
        .trim()
        .parse()
        .with_context(|| format!("--weight {spec:?}: the weight is not a whole number"))?;
    Ok((name.trim().to_owned(), weight))
}

/// Picks kinds by weight.
#[derive(Debug, Clone)]
pub(crate) struct Picker {
    /// Running totals of the weights, one per kind.
    cumulative: Vec<u64>,
}

impl Picker {
    /// Fails when there are no kinds or every weight is zero.
    pub(crate) fn new(kinds: &[Kind]) -> anyhow::Result<Self> {
        let mut total = 0u64;
        let cumulative = kinds
            .iter()
            .map(|k| {
                total += u64::from(k.weight);
                total
            })
            .collect();
        if total == 0 {
            bail!("the mix has no kind with a weight above zero");
        }
        Ok(Self { cumulative })
    }

    /// A kind index, each with probability weight / total.
    pub(crate) fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        let r = rng.below(total);
        self.cumulative.iter().position(|&c| r < c).unwrap_or(0)
    }
}

/// A request built from fixed parts; the hot-path building block of most kinds.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Template {
    /// Fails when `path` is not an origin-form path (`/...`).
    pub(crate) fn new(target: &Target, method: Method, path: &str) -> anyhow::Result<Self> {
        if !path.starts_with('/') {
            bail!("path {path:?} must start with '/'");
        }
        path.parse::<http::Uri>()
            .with_context(|| format!("path {path:?} is not a valid request target"))?;
        let host = HeaderValue::from_str(&target.authority)
            .with_context(|| format!("bad host {:?}", target.authority))?;
        Ok(Self {
            method,
            path: path.to_owned(),
            headers: vec![(header::HOST, host)],
            body: Bytes::new(),
        })
    }

    /// Adds a header.
    ///
    /// Fails when the name or value is not valid in HTTP.
    pub(crate) fn header(mut self, name: &str, value: &str) -> anyhow::Result<Self> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("bad header name {name:?}"))?;
        let value =
            HeaderValue::from_str(value).with_context(|| format!("bad value for header {name}"))?;
        self.headers.push((name, value));
        Ok(self)
    }

    /// Sets a JSON body (and its content type).
    pub(crate) fn json(self, body: &serde_json::Value) -> anyhow::Result<Self> {
        let mut t = self.header("content-type", "application/json")?;
        t.body = Bytes::from(serde_json::to_vec(body)?);
        Ok(t)
    }

    /// Sets a raw body.
    pub(crate) fn body(mut self, body: Bytes) -> Self {
        self.body = body;
        self
    }

    /// The request.
    ///
    /// Fails only if the parts do not form a request, which [`Template::new`] already ruled out.
    pub(crate) fn build(&self) -> anyhow::Result<Request<Body>> {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(self.path.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        Ok(builder.body(Full::new(self.body.clone()))?)
    }
}

/// How long setup calls may take each (sign-up and sign-in hash passwords, which is slow by design).
pub(crate) const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picker_follows_the_weights() {
        let kinds = [Kind::new("a", 3), Kind::new("b", 0), Kind::new("c", 97)];
        let picker = Picker::new(&kinds).unwrap();
        let mut rng = Rng::new(42);
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            counts[picker.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((2_500..3_500).contains(&counts[0]), "{counts:?}");
    }

    #[test]
    fn a_mix_with_no_weight_is_refused() {
        assert!(Picker::new(&[Kind::new("a", 0)]).is_err());
        assert!(Picker::new(&[]).is_err());
    }

    #[test]
    fn weight_overrides_parse() {
        assert_eq!(
            parse_weight("sign-in=5").unwrap(),
            ("sign-in".to_owned(), 5)
        );
        assert!(parse_weight("sign-in").is_err());
        assert!(parse_weight("sign-in=x").is_err());
    }
}
